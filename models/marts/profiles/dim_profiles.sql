{#-
    The golden record: one row per unified profile. Survivorship (documented per column
    in dim_profiles.yml):
    - best e-mail: most recently used address without a later hard bounce;
    - best phone: most recently used mobile number (E.164) without an active STOP;
    - names: CRM over loyalty over event registration;
    - home store: most visited in the last 12 months, else the loyalty home store;
      timezone from the home store, else the country's most common store timezone;
    - purchase_propensity: transparent points score, see the yml.
-#}
with

identity_map as (

    select * from {{ ref('dim_identity_map') }}

),

contact_points as (

    select * from {{ ref('int_profile_contact_points') }}

),

activity as (

    select * from {{ ref('int_profile_activity') }}

),

crm_customers as (

    select * from {{ ref('stg_crm__customers') }}

),

loyalty_members as (

    select * from {{ ref('stg_loyalty__members') }}

),

badge_scans as (

    select * from {{ ref('stg_events__badge_scans') }}

),

stores as (

    select * from {{ ref('stg_stores__stores') }}

),

current_stages as (

    select * from {{ ref('int_profile_current_stage') }}

),

profiles as (

    select
        profile_id,
        min(case when identifier_type = 'crm_id' then identifier_value end) as crm_id,
        min(case when identifier_type = 'loyalty_id' then identifier_value end) as loyalty_id,
        min(case when identifier_type = 'user_id' then identifier_value end) as user_id,
        min(case when identifier_type = 'badge_id' then identifier_value end) as badge_id,
        count(*) as identifiers,
        min(first_seen_at) as first_identified_at

    from identity_map
    group by profile_id

),

latest_badge_names as (

    select badge_id, first_name, last_name
    from (
        select
            badge_id,
            first_name,
            last_name,
            row_number() over (partition by badge_id order by scanned_at desc, scan_id) as scan_rank
        from badge_scans
        where badge_id is not null and coalesce(first_name, last_name) is not null
    ) as ranked
    where scan_rank = 1

),

best_emails as (

    select profile_id, address as best_email, last_used_at as best_email_last_used_at
    from contact_points
    where contact_type = 'email' and preference_rank = 1 and not is_suppressed

),

best_phones as (

    select profile_id, address as best_phone, last_used_at as best_phone_last_used_at
    from contact_points
    where contact_type = 'phone' and preference_rank = 1 and not is_suppressed and is_mobile

),

enriched as (

    select
        profiles.*,
        coalesce(crm_customers.first_name, loyalty_members.first_name, latest_badge_names.first_name) as first_name,
        coalesce(crm_customers.last_name, loyalty_members.last_name, latest_badge_names.last_name) as last_name,
        case
            when coalesce(crm_customers.first_name, crm_customers.last_name) is not null then 'crm'
            when coalesce(loyalty_members.first_name, loyalty_members.last_name) is not null then 'loyalty'
            when coalesce(latest_badge_names.first_name, latest_badge_names.last_name) is not null then 'event_registration'
        end as name_source,
        best_emails.best_email,
        best_emails.best_email_last_used_at,
        best_phones.best_phone,
        best_phones.best_phone_last_used_at,
        coalesce(crm_customers.country, loyalty_members.home_store_country) as country,
        coalesce(crm_customers.do_not_contact, false) as do_not_contact,
        loyalty_members.tier as loyalty_tier,
        loyalty_members.status as loyalty_status,
        loyalty_members.enrolled_at as loyalty_enrolled_at,
        loyalty_members.points_balance as loyalty_points_balance,
        coalesce(activity.most_visited_store_id, loyalty_members.home_store_id) as home_store_id,
        case
            when activity.most_visited_store_id is not null then 'most_visited_12m'
            when loyalty_members.home_store_id is not null then 'loyalty_home_store'
        end as home_store_source,
        activity.first_seen_web_at,
        activity.last_seen_web_at,
        activity.first_seen_app_at,
        activity.last_seen_app_at,
        activity.first_seen_store_at,
        activity.last_seen_store_at,
        activity.first_seen_email_at,
        activity.last_seen_email_at,
        activity.first_seen_sms_at,
        activity.last_seen_sms_at,
        activity.first_seen_event_at,
        activity.last_seen_event_at,
        activity.first_seen_at,
        activity.last_seen_at,
        coalesce(activity.store_orders, 0) as store_orders,
        coalesce(activity.online_orders, 0) as online_orders,
        coalesce(activity.store_revenue, 0) as store_revenue,
        coalesce(activity.online_revenue, 0) as online_revenue,
        activity.first_purchase_at,
        activity.last_purchase_at,
        coalesce(activity.orders_12m, 0) as orders_12m,
        coalesce(activity.revenue_12m, 0) as revenue_12m,
        coalesce(activity.product_views_14d, 0) as product_views_14d,
        coalesce(activity.add_to_carts_14d, 0) as add_to_carts_14d,
        coalesce(activity.message_clicks_30d, 0) as message_clicks_30d

    from profiles
    left join crm_customers
        on profiles.crm_id = crm_customers.crm_id
    left join loyalty_members
        on profiles.loyalty_id = loyalty_members.loyalty_id
    left join latest_badge_names
        on profiles.badge_id = latest_badge_names.badge_id
    left join best_emails
        on profiles.profile_id = best_emails.profile_id
    left join best_phones
        on profiles.profile_id = best_phones.profile_id
    left join activity
        on profiles.profile_id = activity.profile_id

),

{#- Purchase propensity, in points out of 100 (see dim_profiles.yml for the table). -#}
scored as (

    select
        enriched.*,
        {{ dbt.datediff('enriched.last_purchase_at', omniplay.as_of_timestamp(), 'day') }} as days_since_last_purchase,
        case
            when enriched.last_purchase_at >= {{ omniplay.as_of_timestamp() }} - interval '30 days' then 30
            when enriched.last_purchase_at >= {{ omniplay.as_of_timestamp() }} - interval '90 days' then 20
            when enriched.last_purchase_at >= {{ omniplay.as_of_timestamp() }} - interval '365 days' then 10
            else 0
        end
        + 5 * least(enriched.orders_12m, 5)
        + 3 * least(enriched.product_views_14d, 5)
        + case when enriched.add_to_carts_14d > 0 then 15 else 0 end
        + case when enriched.message_clicks_30d > 0 then 15 else 0 end as propensity_points

    from enriched

),

{#- A profile with no home store gets its country's most common store timezone. -#}
country_timezones as (

    select country, timezone
    from (
        select
            country,
            timezone,
            row_number() over (partition by country order by count(*) desc, timezone) as timezone_rank
        from stores
        where not is_online
        group by country, timezone
    ) as ranked
    where timezone_rank = 1

),

rfm as (

    select
        profile_id,
        ntile(5) over (order by last_purchase_at, profile_id) as rfm_recency,
        ntile(5) over (order by orders_12m, profile_id) as rfm_frequency,
        ntile(5) over (order by revenue_12m, profile_id) as rfm_monetary

    from scored
    where orders_12m > 0

),

final as (

    select
        scored.profile_id,
        scored.crm_id,
        scored.loyalty_id,
        scored.user_id,
        scored.crm_id is not null or scored.loyalty_id is not null or scored.user_id is not null
            or scored.best_email is not null or scored.best_phone is not null as is_known,
        scored.first_name,
        scored.last_name,
        scored.name_source,
        scored.best_email,
        scored.best_email_last_used_at,
        scored.best_phone,
        scored.best_phone_last_used_at,
        coalesce(scored.country, stores.country) as country,
        scored.home_store_id,
        scored.home_store_source,
        coalesce(stores.timezone, country_timezones.timezone) as timezone,
        case
            when stores.timezone is not null then 'home_store'
            when country_timezones.timezone is not null then 'country'
        end as timezone_source,
        scored.do_not_contact,
        scored.loyalty_tier,
        scored.loyalty_status,
        scored.loyalty_enrolled_at,
        scored.loyalty_points_balance,
        scored.identifiers,
        scored.first_identified_at,
        scored.first_seen_web_at,
        scored.last_seen_web_at,
        scored.first_seen_app_at,
        scored.last_seen_app_at,
        scored.first_seen_store_at,
        scored.last_seen_store_at,
        scored.first_seen_email_at,
        scored.last_seen_email_at,
        scored.first_seen_sms_at,
        scored.last_seen_sms_at,
        scored.first_seen_event_at,
        scored.last_seen_event_at,
        scored.first_seen_at,
        scored.last_seen_at,
        scored.store_orders,
        scored.online_orders,
        scored.store_orders + scored.online_orders as total_orders,
        scored.store_revenue,
        scored.online_revenue,
        scored.store_revenue + scored.online_revenue as total_revenue,
        scored.first_purchase_at,
        scored.last_purchase_at,
        scored.days_since_last_purchase,
        scored.orders_12m,
        scored.revenue_12m,
        rfm.rfm_recency,
        rfm.rfm_frequency,
        rfm.rfm_monetary,
        scored.product_views_14d,
        scored.add_to_carts_14d,
        scored.message_clicks_30d,
        scored.propensity_points,
        cast(scored.propensity_points as {{ omniplay.type_double() }}) / 100 as purchase_propensity,
        current_stages.journey_stage,
        current_stages.journey_stage_since,
        current_stages.previous_journey_stage,
        current_stages.journey_stage_reason

    from scored
    left join rfm
        on scored.profile_id = rfm.profile_id
    left join stores
        on scored.home_store_id = stores.store_id
    left join country_timezones
        on coalesce(scored.country, stores.country) = country_timezones.country
    left join current_stages
        on scored.profile_id = current_stages.profile_id

)

select * from final
