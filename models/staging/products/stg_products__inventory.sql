with

source as (

    select * from {{ source('products', 'inventory') }}

),

renamed as (

    select
        {{ omniplay.normalize_identifier('store_id', upper=true) }} as store_id,
        {{ omniplay.normalize_identifier('product_id', upper=true) }} as product_id,
        cast(on_hand as integer) as on_hand,
        {{ omniplay.to_utc('last_restocked_at') }} as last_restocked_at,
        {{ omniplay.to_utc('updated_at') }} as updated_at,
        {{ omniplay.to_utc('_loaded_at') }} as loaded_at

    from source

),

final as (

    select
        store_id || ':' || product_id as inventory_id,
        *

    from renamed

)

select * from final
