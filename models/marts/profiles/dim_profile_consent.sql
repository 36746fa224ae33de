{#-
    Whether each profile may be contacted for marketing on each channel, and why.

    - email / sms: allowed only if the address the golden record chose for the channel
      (best_email, best_phone) has an opt-in and no later opt-out; the latest event for
      that address wins (consent given for an old address does not carry over).
    - store (outreach by store associates): the latest store-channel event on the
      profile's CRM or loyalty id wins.
    - Events for channel `all` count for every channel; an opt-out from everything on
      the CRM or loyalty id counts against the e-mail and SMS addresses too.
    - A GDPR objection or do-not-contact on any identifier of the profile, or the CRM
      do-not-contact flag, blocks every channel.
    - No record means not allowed.
-#}
{%- set channels = ['email', 'sms', 'store'] -%}

with

profiles as (

    select * from {{ ref('dim_profiles') }}

),

consent_events as (

    select * from {{ ref('fct_consent_events') }}

),

channels as (

    {%- for channel in channels %}
    select '{{ channel }}' as channel
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

profile_channels as (

    select
        profiles.profile_id,
        channels.channel,
        case channels.channel
            when 'email' then profiles.best_email
            when 'sms' then profiles.best_phone
        end as address,
        profiles.do_not_contact

    from profiles
    cross join channels

),

blocks as (

    select
        profile_id,
        max(occurred_at) as blocked_at,
        max(action) as block_action

    from consent_events
    where blocks_all_marketing
        and profile_id is not null
    group by profile_id

),

{#- The events that speak for a profile channel: for email/sms those on its chosen
    address (channel-specific or `all`); for store those on its CRM or loyalty id
    (`store` or `all`); and on any channel, an opt-out from everything (`all`) given on
    the profile's CRM or loyalty id. One equi-join per kind of identifier (an event has
    exactly one), so each is a hash join: an OR across them leaves the engine no join key
    and it compares every profile channel with every consent event. The joins read the
    profiles (one row each), not profile_channels: an id's events are joined once and
    fanned out to the channels they speak for, and the three rows per profile are never
    held in a temporary result. -#}
channel_events as (

    {%- for channel, id_type, address in [('email', 'email', 'best_email'), ('sms', 'phone', 'best_phone')] %}

    select
        profiles.profile_id,
        '{{ channel }}' as channel,
        consent_events.action,
        consent_events.source,
        consent_events.occurred_at,
        consent_events.consent_event_id

    from profiles
    inner join consent_events
        on consent_events.identifier_type = '{{ id_type }}'
        and consent_events.identifier_value = profiles.{{ address }}
    where consent_events.channel in ('{{ channel }}', 'all')
        and consent_events.action in ('opt_in', 'opt_out')

    union all
    {%- endfor %}
    {%- for id_type in ['crm_id', 'loyalty_id'] %}

    select
        profiles.profile_id,
        channels.channel,
        consent_events.action,
        consent_events.source,
        consent_events.occurred_at,
        consent_events.consent_event_id

    from profiles
    inner join consent_events
        on consent_events.identifier_type = '{{ id_type }}'
        and consent_events.identifier_value = profiles.{{ id_type }}
    cross join channels
    where (channels.channel = 'store' or consent_events.action = 'opt_out')
        and consent_events.channel in (channels.channel, 'all')
        and consent_events.action in ('opt_in', 'opt_out')
    {%- if not loop.last %}

    union all
    {%- endif %}
    {%- endfor %}

),

latest_channel_events as (

    select *
    from (
        select
            *,
            row_number() over (
                partition by profile_id, channel
                {# on a tie, the opt-out wins #}
                order by occurred_at desc, case when action = 'opt_out' then 0 else 1 end, consent_event_id
            ) as recency_rank
        from channel_events
    ) as ranked
    where recency_rank = 1

),

final as (

    select
        profile_channels.profile_id,
        profile_channels.channel,
        case
            when blocks.profile_id is not null or profile_channels.do_not_contact then false
            when profile_channels.channel in ('email', 'sms') and profile_channels.address is null then false
            else coalesce(latest_channel_events.action = 'opt_in', false)
        end as is_allowed,
        case
            when blocks.block_action = 'gdpr_objection' then 'gdpr_objection'
            when blocks.profile_id is not null or profile_channels.do_not_contact then 'do_not_contact'
            when profile_channels.channel in ('email', 'sms') and profile_channels.address is null then 'no_address'
            when latest_channel_events.action = 'opt_in' then 'opted_in'
            when latest_channel_events.action = 'opt_out' then 'opted_out'
            else 'no_consent_record'
        end as reason,
        profile_channels.address,
        latest_channel_events.source as consent_source,
        coalesce(blocks.blocked_at, latest_channel_events.occurred_at) as updated_at

    from profile_channels
    left join blocks
        on profile_channels.profile_id = blocks.profile_id
    left join latest_channel_events
        on profile_channels.profile_id = latest_channel_events.profile_id
        and profile_channels.channel = latest_channel_events.channel

)

select * from final
