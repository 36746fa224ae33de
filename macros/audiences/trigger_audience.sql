{#- The audience of one trigger: its current fires (fct_trigger_fires) with the product and
    store names templates use. An audience model that is "everyone this trigger fired for"
    is one call; wrap it to filter or add columns (`select ... from ({{ omniplay.trigger_audience('x') }}) as fires`). -#}
{% macro trigger_audience(trigger_name) -%}
with

trigger_fires as (

    select * from {{ ref('fct_trigger_fires') }}

),

products as (

    select * from {{ ref('stg_products__products') }}

),

stores as (

    select * from {{ ref('stg_stores__stores') }}

),

final as (

    select
        trigger_fires.profile_id,
        trigger_fires.fired_at as triggered_at,
        trigger_fires.product_id,
        products.product_name,
        trigger_fires.store_id as trigger_store_id,
        stores.store_name as trigger_store_name,
        trigger_fires.detail as trigger_detail

    from trigger_fires
    left join products
        on trigger_fires.product_id = products.product_id
    left join stores
        on trigger_fires.store_id = stores.store_id
    where trigger_fires.trigger_name = {{ dbt.string_literal(trigger_name) }}

)

select * from final
{%- endmacro %}
