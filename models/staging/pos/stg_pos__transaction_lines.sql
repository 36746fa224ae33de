{#- A table, not a view: normalized once per build instead of once per reader (identity,
    profiles, consent, the event stream). Stored in load order, so the nightly
    fct_customer_events' filter on the stored, already-UTC loaded_at skips every row
    group but the newest few (zone maps) instead of picking rows out of all of them. -#}
{{ config(materialized='table') }}
with

source as (

    select * from {{ source('pos', 'transaction_lines') }}

),

renamed as (

    select
        {{ omniplay.normalize_identifier('transaction_id', upper=true) }} as transaction_id,
        cast(line_number as integer) as line_number,
        {{ omniplay.normalize_identifier('product_id', upper=true) }} as product_id,
        cast(quantity as integer) as quantity,
        cast(unit_price as {{ omniplay.type_double() }}) as unit_price,
        cast(coalesce(discount_amount, 0) as {{ omniplay.type_double() }}) as discount_amount,
        {{ omniplay.to_utc('_loaded_at') }} as loaded_at

    from source

),

final as (

    select
        transaction_id || ':' || cast(line_number as {{ dbt.type_string() }}) as transaction_line_id,
        *

    from renamed

)

select * from final
order by loaded_at
