{#- A table, not a view: normalized once per build instead of once per reader (identity,
    profiles, consent, the event stream). Stored in load order, so the nightly
    fct_customer_events' filter on the stored, already-UTC loaded_at skips every row
    group but the newest few (zone maps) instead of picking rows out of all of them. -#}
{{ config(materialized='table') }}
with

source as (

    select * from {{ source('pos', 'transactions') }}

),

stores as (

    select * from {{ ref('stg_stores__stores') }}

),

identifier_blocklist as (

    select * from {{ ref('identifier_blocklist') }}

),

renamed as (

    select
        {{ omniplay.normalize_identifier('transaction_id', upper=true) }} as transaction_id,
        {{ omniplay.normalize_identifier('store_id', upper=true) }} as store_id,
        cast(occurred_at_local as {{ dbt.type_timestamp() }}) as occurred_at_local,
        {{ omniplay.normalize_identifier('loyalty_id', upper=true) }} as loyalty_id_normalized,
        loyalty_id as loyalty_id_raw,
        {{ omniplay.normalize_identifier('card_token') }} as card_token_normalized,
        card_token as card_token_raw,
        cast(total_amount as {{ omniplay.type_double() }}) as total_amount,
        upper(trim(currency)) as currency,
        coalesce(is_return, false) as is_return,
        {{ omniplay.to_utc('_loaded_at') }} as loaded_at

    from source

),

{# Tills record the store's wall-clock time: its timezone turns it into UTC. #}
localized as (

    select
        renamed.transaction_id,
        renamed.store_id,
        {{ omniplay.to_utc_from_local('renamed.occurred_at_local', 'stores.timezone') }} as occurred_at,
        renamed.occurred_at_local,
        stores.timezone as store_timezone,
        case
            when not {{ omniplay.is_blocklisted('renamed.loyalty_id_normalized', 'id') }}
                then renamed.loyalty_id_normalized
        end as loyalty_id,
        renamed.loyalty_id_raw,
        case
            when not {{ omniplay.is_blocklisted('renamed.card_token_normalized', 'id') }}
                then renamed.card_token_normalized
        end as card_token,
        renamed.card_token_raw,
        renamed.total_amount,
        renamed.currency,
        renamed.is_return,
        renamed.loaded_at

    from renamed
    left join stores
        on renamed.store_id = stores.store_id

),

final as (

    select * from localized

)

select * from final
order by loaded_at
