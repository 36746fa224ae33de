with

source as (

    select * from {{ source('products', 'products') }}

),

renamed as (

    select
        {{ omniplay.normalize_identifier('product_id', upper=true) }} as product_id,
        nullif(trim(product_name), '') as product_name,
        nullif(trim(category), '') as category,
        nullif(trim(brand), '') as brand,
        cast(price as {{ omniplay.type_double() }}) as price,
        cast(unit_cost as {{ omniplay.type_double() }}) as unit_cost,
        coalesce(is_active, false) as is_active,
        {{ omniplay.to_utc('_loaded_at') }} as loaded_at

    from source

),

final as (

    select * from renamed

)

select * from final
