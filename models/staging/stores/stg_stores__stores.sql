with

source as (

    select * from {{ source('stores', 'stores') }}

),

renamed as (

    select
        {{ omniplay.normalize_identifier('store_id', upper=true) }} as store_id,
        nullif(trim(store_name), '') as store_name,
        lower(trim(region)) as region,
        upper(trim(country)) as country,
        trim(timezone) as timezone,
        {{ omniplay.cast_time_of_day('trim(opens_at)') }} as opening_time_local,
        {{ omniplay.cast_time_of_day('trim(closes_at)') }} as closing_time_local,
        cast(latitude as {{ omniplay.type_double() }}) as latitude,
        cast(longitude as {{ omniplay.type_double() }}) as longitude,
        cast(opened_on as date) as opened_on,
        coalesce(is_online, false) as is_online,
        {{ omniplay.to_utc('_loaded_at') }} as loaded_at

    from source

),

final as (

    select * from renamed

)

select * from final
