{#-
    Every e-mail address and phone number of every profile, with what the golden record
    needs to choose among them: when each was last used, whether it hard-bounced or was
    STOPped since, whether a phone is a mobile, and the resulting rank (1 = best).

    - e-mail: usable unless it hard-bounced with no open or click since (a source
      record updated after the bounce proves nothing about deliverability); then most
      recently used first (source records and e-mail engagement).
    - phone: usable for SMS only when it is a mobile number (seed phone_mobile_prefixes)
      and its latest STOP is not followed by a START; then most recently used first.
-#}
with

identity_map as (

    select * from {{ ref('dim_identity_map') }}

),

email_events as (

    select * from {{ ref('stg_email__events') }}

),

sms_events as (

    select * from {{ ref('stg_sms__events') }}

),

mobile_prefixes as (

    select * from {{ ref('phone_mobile_prefixes') }}

),

email_activity as (

    select
        email,
        max(case when event_type in ('open', 'click') then occurred_at end) as last_engaged_at,
        max(case when event_type = 'bounce' and bounce_type = 'hard' then occurred_at end) as last_hard_bounce_at

    from email_events
    where email is not null
    group by email

),

sms_activity as (

    select
        phone,
        max(case when event_type = 'click' then occurred_at end) as last_engaged_at,
        max(case when event_type = 'stop' then occurred_at end) as last_stop_at,
        max(case when event_type = 'start' then occurred_at end) as last_start_at

    from sms_events
    where phone is not null
    group by phone

),

emails as (

    select
        identity_map.profile_id,
        'email' as contact_type,
        identity_map.identifier_value as address,
        case
            when email_activity.last_engaged_at > identity_map.last_seen_at then email_activity.last_engaged_at
            else identity_map.last_seen_at
        end as last_used_at,
        coalesce(email_activity.last_hard_bounce_at >= coalesce(email_activity.last_engaged_at, email_activity.last_hard_bounce_at), false)
            as is_suppressed,
        case
            when email_activity.last_hard_bounce_at >= coalesce(email_activity.last_engaged_at, email_activity.last_hard_bounce_at)
                then 'hard_bounce'
        end as suppressed_reason,
        true as is_mobile

    from identity_map
    left join email_activity
        on identity_map.identifier_value = email_activity.email
    where identity_map.identifier_type = 'email'

),

phones as (

    select
        identity_map.profile_id,
        'phone' as contact_type,
        identity_map.identifier_value as address,
        case
            when sms_activity.last_engaged_at > identity_map.last_seen_at then sms_activity.last_engaged_at
            else identity_map.last_seen_at
        end as last_used_at,
        coalesce(
            sms_activity.last_stop_at > coalesce(sms_activity.last_start_at, sms_activity.last_stop_at - interval '1 day'),
            false
        ) as is_suppressed,
        case
            when sms_activity.last_stop_at > coalesce(sms_activity.last_start_at, sms_activity.last_stop_at - interval '1 day')
                then 'sms_stop'
        end as suppressed_reason,
        exists(
            select 1
            from mobile_prefixes
            where identity_map.identifier_value like mobile_prefixes.e164_prefix || '%'
        ) as is_mobile

    from identity_map
    left join sms_activity
        on identity_map.identifier_value = sms_activity.phone
    where identity_map.identifier_type = 'phone'

),

contact_points as (

    select * from emails
    union all
    select * from phones

),

final as (

    select
        *,
        row_number() over (
            partition by profile_id, contact_type
            order by
                case when is_suppressed or not is_mobile then 1 else 0 end,
                last_used_at desc nulls last,
                address
        ) as preference_rank

    from contact_points

)

select * from final
