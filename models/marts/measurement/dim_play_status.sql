{#-
    One row per play (disabled ones too): whether a guardrail has paused it. A play is
    paused when its latest pause (fct_play_pauses) is later than its latest
    `omniplay plays resume` (omniplay_state.play_resumes). int_play_candidates turns a
    paused play's candidates into `paused_guardrail`.
-#}
{%- set plays = omniplay.plays(include_disabled=true) -%}

with

pauses as (

    select * from {{ ref('fct_play_pauses') }}

),

latest_resumes as (

    select * from {{ ref('int_play_latest_resumes') }}

),

plays as (

    {%- for play in plays %}
    select
        cast('{{ play.id }}' as {{ dbt.type_string() }}) as play_id,
        {{ 'true' if play.enabled else 'false' }} as is_enabled
    {{ "union all" if not loop.last }}
    {%- endfor %}
    {%- if not plays %}
    select cast(null as {{ dbt.type_string() }}) as play_id, false as is_enabled where 1 = 0
    {%- endif %}

),

latest_pauses as (

    select
        play_id,
        paused_at,
        breached_metrics

    from (
        select
            *,
            row_number() over (partition by play_id order by paused_at desc) as pause_rank
        from pauses
    ) as ranked
    where pause_rank = 1

),

final as (

    select
        plays.play_id,
        plays.is_enabled,
        coalesce(
            latest_pauses.paused_at is not null
            and (latest_resumes.resumed_at is null or latest_pauses.paused_at > latest_resumes.resumed_at),
            false
        ) as is_paused,
        latest_pauses.paused_at as last_paused_at,
        latest_pauses.breached_metrics as last_breached_metrics,
        latest_resumes.resumed_at as last_resumed_at

    from plays
    left join latest_pauses
        on plays.play_id = latest_pauses.play_id
    left join latest_resumes
        on plays.play_id = latest_resumes.play_id

)

select * from final
