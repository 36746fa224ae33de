{{
    config(
        materialized='incremental',
        unique_key='pause_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        full_refresh=false,
    )
}}
{#-
    Guardrail pauses, persisted: a row each time a play breaches a guardrail
    (int_play_guardrail_rates) while it is not paused already, i.e. it has no pause
    since its latest `omniplay plays resume`. A pause holds until that resume, however
    the rates move later (a paused play sends nothing, so its rates would fade). It
    ignores --full-refresh on purpose: pauses are history.
-#}

with

rates as (

    select * from {{ ref('int_play_guardrail_rates') }}

),

latest_resumes as (

    select * from {{ ref('int_play_latest_resumes') }}

),

breaches as (

    select
        play_id,
        min(evaluated_at) as paused_at,
        {{ dbt.listagg('metric', "', '", "order by metric") }} as breached_metrics,
        max(rate) as worst_rate,
        max(messages) as messages

    from rates
    where is_breach
    group by play_id

),

{% if is_incremental() %}

open_pauses as (

    select distinct existing.play_id

    from {{ this }} as existing
    left join latest_resumes
        on existing.play_id = latest_resumes.play_id
    where latest_resumes.resumed_at is null or existing.paused_at > latest_resumes.resumed_at

),

{% endif %}

final as (

    select
        breaches.play_id || ':' || cast(breaches.paused_at as {{ dbt.type_string() }}) as pause_id,
        breaches.play_id,
        breaches.paused_at,
        breaches.breached_metrics,
        breaches.messages

    from breaches
    {%- if is_incremental() %}
    where breaches.play_id not in (select open_pauses.play_id from open_pauses)
    {%- endif %}

)

select * from final
