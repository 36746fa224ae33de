{{ config(materialized='view') }}
{#- One event per till line (product-level purchases and returns); a view so the nightly
    fct_customer_events reads only new rows through it. -#}
with

transactions as {{ omniplay.inline_cte() }} (

    select * from {{ ref('stg_pos__transactions') }}

),

transaction_lines as {{ omniplay.inline_cte() }} (

    select * from {{ ref('stg_pos__transaction_lines') }}

),

{#- A line counts as loaded once both it and its transaction have landed: at the later
    of the two loaded_at. Written as two branches, each taking loaded_at from one side,
    so that a filter on loaded_at (the nightly fct_customer_events) reaches that side's
    table scan instead of running above a join of every line to every transaction. -#}
{%- set line_columns %}
        transaction_lines.transaction_line_id,
        transactions.transaction_id,
        transactions.store_id,
        transactions.occurred_at,
        transactions.is_return,
        transactions.currency,
        transaction_lines.product_id,
        transaction_lines.quantity,
        transaction_lines.quantity * transaction_lines.unit_price - transaction_lines.discount_amount as line_amount,
        transactions.loyalty_id,
        transactions.card_token
{%- endset %}
lines as (

    select
        {{- line_columns }},
        transaction_lines.loaded_at

    from transaction_lines
    inner join transactions
        on transaction_lines.transaction_id = transactions.transaction_id
    where transaction_lines.loaded_at > transactions.loaded_at

    union all

    select
        {{- line_columns }},
        transactions.loaded_at

    from transaction_lines
    inner join transactions
        on transaction_lines.transaction_id = transactions.transaction_id
    where not coalesce(transaction_lines.loaded_at > transactions.loaded_at, false)

),

final as (

    select
        'pos:' || transaction_line_id as event_id,
        transaction_line_id as source_event_id,
        'store' as channel,
        case when is_return then 'return' else 'purchase' end as event_type,
        occurred_at,
        loaded_at,
        store_id,
        product_id,
        transaction_id as order_id,
        quantity,
        line_amount as revenue,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        cast(null as {{ dbt.type_string() }}) as message_id,
        currency as detail,
        'loyalty_id' as primary_identifier_type,
        loyalty_id as primary_identifier_value,
        'card_token' as secondary_identifier_type,
        card_token as secondary_identifier_value,
        cast(null as {{ dbt.type_string() }}) as tertiary_identifier_type,
        cast(null as {{ dbt.type_string() }}) as tertiary_identifier_value

    from lines

)

select * from final
