{#-
    Every identifier seen in every identity-bearing record, one row per
    (record, identifier), with the record's centre: its strongest identifier (type
    priority), which the star of edges of the record starts from. Web and POS rows are
    first reduced to their distinct identifier combinations, so the graph grows with
    people and devices, not with event volume. Staging has already normalized every
    value and nulled junk (identifier_blocklist).

    Every identifier gets a dense bigint `node_id`, numbered in (identifier_type,
    identifier_value) order, i.e. the order of the `<type>:<value>` node names: the graph
    downstream (edges, components, registry, map) joins and groups on integers, and every
    "smallest node" rule keeps its meaning.
-#}
with

crm_customers as (

    select * from {{ ref('stg_crm__customers') }}

),

loyalty_members as (

    select * from {{ ref('stg_loyalty__members') }}

),

web_accounts as (

    select * from {{ ref('stg_web__accounts') }}

),

{#- omniplay's web/events and every enabled event source adapter (Snowplow, Segment,
    RudderStack): identify calls and heartbeats included, they carry logins too. -#}
web_events as (

    select * from {{ ref('int_web_events_unioned') }}

),

pos_transactions as (

    select * from {{ ref('stg_pos__transactions') }}

),

badge_scans as (

    select * from {{ ref('stg_events__badge_scans') }}

),

crm_records as (

    select
        'crm' as source,
        created_at as first_observed_at,
        coalesce(updated_at, created_at) as observed_at,
        1 as times_seen,
        crm_id,
        cast(null as {{ dbt.type_string() }}) as loyalty_id,
        cast(null as {{ dbt.type_string() }}) as user_id,
        case when is_valid_email then email end as email,
        phone,
        cast(null as {{ dbt.type_string() }}) as card_token,
        cast(null as {{ dbt.type_string() }}) as badge_id,
        cast(null as {{ dbt.type_string() }}) as device_id,
        cast(null as {{ dbt.type_string() }}) as cookie_id

    from crm_customers

),

loyalty_records as (

    select
        'loyalty' as source,
        enrolled_at as first_observed_at,
        coalesce(updated_at, enrolled_at) as observed_at,
        1 as times_seen,
        crm_id,
        loyalty_id,
        null as user_id,
        case when is_valid_email then email end as email,
        phone,
        null as card_token,
        null as badge_id,
        null as device_id,
        null as cookie_id

    from loyalty_members
    where loyalty_id is not null

),

account_records as (

    select
        'web_account' as source,
        created_at as first_observed_at,
        created_at as observed_at,
        1 as times_seen,
        crm_id,
        null as loyalty_id,
        user_id,
        case when is_valid_email then email end as email,
        phone,
        null as card_token,
        null as badge_id,
        null as device_id,
        null as cookie_id

    from web_accounts
    where user_id is not null

),

{#- A cookie or device that never logs in still gets a node: it is an anonymous
    profile until a login ties it to a person. -#}
web_combinations as (

    select
        event_source,
        user_id,
        cookie_id,
        device_id,
        min(occurred_at) as first_observed_at,
        max(occurred_at) as observed_at,
        count(*) as times_seen

    from web_events
    where coalesce(user_id, cookie_id, device_id) is not null
    group by event_source, user_id, cookie_id, device_id

),

web_records as (

    select
        event_source as source,
        first_observed_at,
        observed_at,
        times_seen,
        null as crm_id,
        null as loyalty_id,
        user_id,
        null as email,
        null as phone,
        null as card_token,
        null as badge_id,
        device_id,
        cookie_id

    from web_combinations

),

pos_combinations as (

    select
        loyalty_id,
        card_token,
        min(occurred_at) as first_observed_at,
        max(occurred_at) as observed_at,
        count(*) as times_seen

    from pos_transactions
    where coalesce(loyalty_id, card_token) is not null
    group by loyalty_id, card_token

),

pos_records as (

    select
        'pos' as source,
        first_observed_at,
        observed_at,
        times_seen,
        null as crm_id,
        loyalty_id,
        null as user_id,
        null as email,
        null as phone,
        card_token,
        null as badge_id,
        null as device_id,
        null as cookie_id

    from pos_combinations

),

badge_records as (

    select
        'event_scan' as source,
        scanned_at as first_observed_at,
        scanned_at as observed_at,
        1 as times_seen,
        null as crm_id,
        null as loyalty_id,
        null as user_id,
        case when is_valid_email then email end as email,
        phone,
        null as card_token,
        badge_id,
        null as device_id,
        null as cookie_id

    from badge_scans

),

records as (

    select * from crm_records
    union all
    select * from loyalty_records
    union all
    select * from account_records
    union all
    select * from web_records
    union all
    select * from pos_records
    union all
    select * from badge_records

),

{#- A record holds at most one identifier of each type: its centre is the first one
    present in type priority order. -#}
centred_records as (

    select
        *,
        case
            {%- for identifier_type in omniplay.identity_identifier_types() %}
            when {{ identifier_type }} is not null then '{{ identifier_type }}'
            {%- endfor %}
        end as centre_type,
        coalesce({{ omniplay.identity_identifier_types() | join(', ') }}) as centre_value

    from records

),

{#- Unpivot: one row per identifier. -#}
unpivoted as (

    {% for identifier_type in omniplay.identity_identifier_types() %}
    select
        source,
        first_observed_at,
        observed_at,
        times_seen,
        '{{ identifier_type }}' as identifier_type,
        {{ identifier_type }} as identifier_value,
        {{ loop.index }} as type_priority,
        centre_type,
        centre_value

    from centred_records
    where {{ identifier_type }} is not null
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

node_ids as (

    select
        identifier_type,
        identifier_value,
        row_number() over (order by identifier_type, identifier_value) as node_id

    from unpivoted
    group by identifier_type, identifier_value

),

final as (

    select
        unpivoted.source,
        unpivoted.identifier_type,
        unpivoted.identifier_value,
        node_ids.node_id,
        unpivoted.type_priority,
        unpivoted.centre_type,
        centres.node_id as centre_node_id,
        unpivoted.first_observed_at,
        unpivoted.observed_at,
        unpivoted.times_seen

    from unpivoted
    inner join node_ids
        on unpivoted.identifier_type = node_ids.identifier_type
        and unpivoted.identifier_value = node_ids.identifier_value
    inner join node_ids as centres
        on unpivoted.centre_type = centres.identifier_type
        and unpivoted.centre_value = centres.identifier_value

)

select * from final
