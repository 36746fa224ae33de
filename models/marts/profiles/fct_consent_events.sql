{#-
    Consent history for audit: every consent-relevant event, tied to the profile of the
    identifier it was given for. Besides the consent log and the opt-outs providers
    reported during delivery (omniplay_state.opt_outs, e.g. Twilio 21610), engagement
    events that carry consent are included as evidence in their own right (an SMS STOP/START reply, an
    e-mail unsubscribe or spam complaint), so a lagging consent feed can never let a
    message through that the customer already refused.
-#}
with

consent_log as (

    select * from {{ ref('stg_consent__consent_log') }}

),

email_events as (

    select * from {{ ref('stg_email__events') }}

),

sms_events as (

    select * from {{ ref('stg_sms__events') }}

),

provider_opt_outs as (

    select * from {{ source('omniplay_state', 'opt_outs') }}

),

identity_map as (

    select * from {{ ref('dim_identity_map') }}

),

logged as (

    select
        consent_event_id,
        identifier_type,
        identifier_value,
        channel,
        action,
        source,
        occurred_at

    from consent_log
    where identifier_value is not null

),

from_email as (

    select
        'email_event:' || event_id as consent_event_id,
        'email' as identifier_type,
        email as identifier_value,
        'email' as channel,
        'opt_out' as action,
        case when event_type = 'complaint' then 'email_complaint' else 'email_unsubscribe' end as source,
        occurred_at

    from email_events
    where event_type in ('unsubscribe', 'complaint')
        and email is not null

),

from_sms as (

    select
        'sms_event:' || event_id as consent_event_id,
        'phone' as identifier_type,
        phone as identifier_value,
        'sms' as channel,
        case when event_type = 'stop' then 'opt_out' else 'opt_in' end as action,
        'sms_reply' as source,
        occurred_at

    from sms_events
    where event_type in ('stop', 'start')
        and phone is not null

),

{#- Opt-outs a provider reported during delivery (the activation engine records them). -#}
from_providers as (

    select
        'provider:' || opt_out_id as consent_event_id,
        identifier_type,
        identifier_value,
        channel,
        action,
        source,
        occurred_at

    from provider_opt_outs
    where identifier_value is not null

),

consent_events as (

    select * from logged
    union all
    select * from from_providers
    union all
    select * from from_email
    union all
    select * from from_sms

),

final as (

    select
        consent_events.*,
        identity_map.profile_id,
        consent_events.action in ('gdpr_objection', 'do_not_contact') as blocks_all_marketing

    from consent_events
    left join identity_map
        on consent_events.identifier_type = identity_map.identifier_type
        and consent_events.identifier_value = identity_map.identifier_value
    where consent_events.occurred_at <= {{ omniplay.as_of_timestamp() }}

)

select * from final
