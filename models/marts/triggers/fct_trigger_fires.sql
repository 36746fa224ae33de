{#- Every trigger firing at the as-of time, one row per profile and trigger: the one
    table audiences select from (`where trigger_name = 'cart_abandonment'`). -#}
with

cart_abandonment as (

    select * from {{ ref('int_trigger_cart_abandonment') }}

),

high_intent as (

    select * from {{ ref('int_trigger_high_intent') }}

),

repeat_product_view as (

    select * from {{ ref('int_trigger_repeat_product_view') }}

),

back_in_stock as (

    select * from {{ ref('int_trigger_back_in_stock') }}

),

badge_scan_follow_up as (

    select * from {{ ref('int_trigger_badge_scan_follow_up') }}

),

lapsed_loyalty_member as (

    select * from {{ ref('int_trigger_lapsed_loyalty_member') }}

),

new_loyalty_member as (

    select * from {{ ref('int_trigger_new_loyalty_member') }}

),

unioned as (

    select * from cart_abandonment
    union all
    select * from high_intent
    union all
    select * from repeat_product_view
    union all
    select * from back_in_stock
    union all
    select * from badge_scan_follow_up
    union all
    select * from lapsed_loyalty_member
    union all
    select * from new_loyalty_member

),

final as (

    select
        profile_id || ':' || trigger_name as trigger_fire_id,
        unioned.*,
        {{ omniplay.as_of_timestamp() }} as evaluated_at

    from unioned

)

select * from final
