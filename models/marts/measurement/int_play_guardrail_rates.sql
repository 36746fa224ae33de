{#-
    Guardrail rates per play and metric: of the messages the play sent (send ledger,
    status `sent`) within var('omniplay__guardrails').lookback_days before the as-of time
    and after the play's latest `omniplay plays resume`, the share whose profile opted
    out (opt_out_rate: any opt-out or marketing block, any source), unsubscribed from a
    message (unsubscribe_rate: e-mail unsubscribe link, SMS STOP, provider opt-out) or
    complained (complaint_rate: e-mail spam complaint) within response_days after the
    send. The baseline is the same rate over every other play's messages in the window.
    A metric breaches when the play sent at least min_messages, its rate is above
    max_rate and above max_ratio times the baseline (when there is one).
    Reads only the ledger and consent events, never this run's decisions, so the pause
    it leads to (dim_play_status) can feed them.
-#}
{%- set config = omniplay.guardrail_config() -%}
{%- set plays = omniplay.plays(include_disabled=true) -%}

with

sends as (

    select * from {{ source('omniplay_state', 'sends') }}

),

latest_resumes as (

    select * from {{ ref('int_play_latest_resumes') }}

),

consent_events as (

    select * from {{ ref('fct_consent_events') }}

),

as_of as (

    select {{ omniplay.as_of_timestamp() }} as as_of_at

),

messages as (

    select
        sends.message_id,
        sends.play_id,
        sends.profile_id,
        sends.channel,
        sends.finished_at as sent_at

    from sends
    cross join as_of
    left join latest_resumes
        on sends.play_id = latest_resumes.play_id
    where sends.status = 'sent'
        and sends.finished_at is not null
        and sends.profile_id is not null
        and sends.finished_at <= as_of.as_of_at
        and sends.finished_at > {{ dbt.dateadd('day', -config.lookback_days, 'as_of.as_of_at') }}
        and (latest_resumes.resumed_at is null or sends.finished_at > latest_resumes.resumed_at)

),

responses as (

    select
        profile_id,
        occurred_at,
        action in ('opt_out', 'gdpr_objection', 'do_not_contact') as is_opt_out,
        action = 'opt_out' and source in ('email_unsubscribe', 'sms_reply', 'provider') as is_unsubscribe,
        source = 'email_complaint' as is_complaint

    from consent_events
    where profile_id is not null
        and action in ('opt_out', 'gdpr_objection', 'do_not_contact')

),

message_responses as (

    select
        messages.message_id,
        messages.play_id,
        max(case when responses.is_opt_out then 1 else 0 end) as opted_out,
        max(case when responses.is_unsubscribe then 1 else 0 end) as unsubscribed,
        max(case when responses.is_complaint then 1 else 0 end) as complained

    from messages
    left join responses
        on messages.profile_id = responses.profile_id
        and responses.occurred_at >= messages.sent_at
        and responses.occurred_at < {{ dbt.dateadd('day', config.response_days, 'messages.sent_at') }}
    group by messages.message_id, messages.play_id

),

per_play as (

    select
        play_id,
        count(*) as messages,
        sum(opted_out) as opt_out_events,
        sum(unsubscribed) as unsubscribe_events,
        sum(complained) as complaint_events

    from message_responses
    group by play_id

),

plays as (

    {%- for play in plays %}
    select cast('{{ play.id }}' as {{ dbt.type_string() }}) as play_id
    {{ "union all" if not loop.last }}
    {%- endfor %}
    {%- if not plays %}
    select cast(null as {{ dbt.type_string() }}) as play_id where 1 = 0
    {%- endif %}

),

totals as (

    select
        sum(messages) as messages,
        sum(opt_out_events) as opt_out_events,
        sum(unsubscribe_events) as unsubscribe_events,
        sum(complaint_events) as complaint_events

    from per_play

),

metrics as (

    {%- for metric in ['opt_out', 'unsubscribe', 'complaint'] %}
    {%- set limits = config.metrics[metric ~ '_rate'] %}
    select
        plays.play_id,
        '{{ metric }}_rate' as metric,
        cast(coalesce(per_play.messages, 0) as {{ dbt.type_bigint() }}) as messages,
        cast(coalesce(per_play.{{ metric }}_events, 0) as {{ dbt.type_bigint() }}) as events,
        cast(coalesce(totals.messages, 0) - coalesce(per_play.messages, 0) as {{ dbt.type_bigint() }}) as baseline_messages,
        cast(coalesce(totals.{{ metric }}_events, 0) - coalesce(per_play.{{ metric }}_events, 0) as {{ dbt.type_bigint() }})
            as baseline_events,
        cast({{ limits.max_rate }} as {{ omniplay.type_double() }}) as max_rate,
        cast({{ limits.max_ratio }} as {{ omniplay.type_double() }}) as max_ratio
    from plays
    left join per_play
        on plays.play_id = per_play.play_id
    cross join totals
    {{ "union all" if not loop.last }}
    {%- endfor %}

),

rates as (

    select
        *,
        case when messages > 0 then cast(events as {{ omniplay.type_double() }}) / messages end as rate,
        case when baseline_messages > 0 then cast(baseline_events as {{ omniplay.type_double() }}) / baseline_messages end
            as baseline_rate

    from metrics

),

final as (

    select
        rates.play_id,
        rates.metric,
        rates.messages,
        rates.events,
        rates.rate,
        rates.baseline_messages,
        rates.baseline_events,
        rates.baseline_rate,
        rates.max_rate,
        rates.max_ratio,
        case
            when rates.baseline_rate is null then rates.max_rate
            when rates.max_ratio * rates.baseline_rate > rates.max_rate then rates.max_ratio * rates.baseline_rate
            else rates.max_rate
        end as threshold,
        coalesce(
            rates.messages >= {{ config.min_messages }}
            and rates.rate > rates.max_rate
            and (rates.baseline_rate is null or rates.rate > rates.max_ratio * rates.baseline_rate),
            false
        ) as is_breach,
        latest_resumes.resumed_at as window_starts_after_resume_at,
        as_of.as_of_at as evaluated_at

    from rates
    cross join as_of
    left join latest_resumes
        on rates.play_id = latest_resumes.play_id

)

select * from final
