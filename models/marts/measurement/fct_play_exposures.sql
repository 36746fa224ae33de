{{
    config(
        materialized='incremental',
        unique_key='run_date',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        full_refresh=false,
    )
}}
{#-
    Lift exposures, intent to treat, one row per run, play and profile in an arm
    (docs/measurement.md). Treatment: every profile the play selected in the run,
    whether or not the send then succeeded. Control: every profile the play would have
    selected (fct_play_decisions.ghost_outcome = selected) but held out, by the play's
    holdout or the global control group. Both arms pass the same checks (consent,
    compliance, budget, priority, channel), so they are alike but for the message.
    `scope = 'global'` rows (play_id `all_plays`) compare the profiles any play selected
    with the global control group profiles some play would have selected.
    Persisted like the holdouts (decisions keep only the current run): a rebuild in the
    same run replaces all of that run's rows (delete+insert on run_date); --full-refresh
    is ignored, exposures are history.
-#}
{%- set plays = omniplay.plays() -%}

with

decisions as (

    select * from {{ ref('fct_play_decisions') }}

),

holdouts as (

    select * from {{ ref('dim_holdout_assignments') }}

),

play_config as (

    {%- for play in plays %}
    {%- set conversion = play.conversion or {} %}
    select
        cast('{{ play.id }}' as {{ dbt.type_string() }}) as play_id,
        {{ conversion.get('window_days', 0) | int }} as attribution_days,
        cast({{ play.cost.get('email', 0) }} as {{ omniplay.type_double() }}) as cost_email,
        cast({{ play.cost.get('sms', 0) }} as {{ omniplay.type_double() }}) as cost_sms,
        cast({{ play.cost.get('store', 0) }} as {{ omniplay.type_double() }}) as cost_store
    {{ "union all" if not loop.last }}
    {%- endfor %}
    {%- if not plays %}
    select cast(null as {{ dbt.type_string() }}) as play_id, 0 as attribution_days,
        cast(0 as {{ omniplay.type_double() }}) as cost_email, cast(0 as {{ omniplay.type_double() }}) as cost_sms,
        cast(0 as {{ omniplay.type_double() }}) as cost_store
    where 1 = 0
    {%- endif %}

),

{#- Each profile's holdout percentages (as drawn), for the arm shares the design promises. -#}
holdout_pcts as (

    select
        profile_id,
        scope,
        holdout_pct

    from holdouts
    where status = 'active'
        and method = 'salted_hash'

),

play_exposures as (

    select
        decisions.run_date,
        decisions.decided_at,
        'play' as scope,
        decisions.play_id,
        decisions.profile_id,
        case when decisions.outcome = 'selected' then 'treatment' else 'control' end as arm,
        decisions.holdout_scope as control_scope,
        case when decisions.outcome = 'selected' then decisions.channel else decisions.ghost_channel end as channel,
        {#- P(held out) = 1 - (1 - global) (1 - play): the scopes hash independently. -#}
        1.0 - (1.0 - coalesce(global_pct.holdout_pct, 0) / 100.0) * (1.0 - coalesce(play_pct.holdout_pct, 0) / 100.0)
            as expected_control_share,
        play_config.attribution_days,
        case when decisions.outcome = 'selected' then
            case when decisions.selected_email then play_config.cost_email else 0 end
            + case when decisions.selected_sms then play_config.cost_sms else 0 end
            + case when decisions.selected_store then play_config.cost_store else 0 end
        else 0 end as cost

    from decisions
    inner join play_config
        on decisions.play_id = play_config.play_id
    left join holdout_pcts as global_pct
        on decisions.profile_id = global_pct.profile_id
        and global_pct.scope = 'global'
    left join holdout_pcts as play_pct
        on decisions.profile_id = play_pct.profile_id
        and decisions.play_id = play_pct.scope
    where decisions.outcome = 'selected'
        or (decisions.outcome = 'holdout' and decisions.ghost_outcome = 'selected')

),

{#- Global: treatment = selected by some play and not in the global control group;
    control = in the global control group and a play would have selected it there (a
    play's own holdout still applies inside the global group, so those ghosts do not count). -#}
global_candidates as (

    select
        play_exposures.*,
        row_number() over (
            partition by play_exposures.run_date, play_exposures.profile_id
            order by decisions.priority, play_exposures.play_id
        ) as play_order

    from play_exposures
    inner join decisions
        on play_exposures.run_date = decisions.run_date
        and play_exposures.play_id = decisions.play_id
        and play_exposures.profile_id = decisions.profile_id
    where play_exposures.arm = 'treatment'
        or play_exposures.control_scope = 'global'

),

global_exposures as (

    select
        global_candidates.run_date,
        min(global_candidates.decided_at) as decided_at,
        'global' as scope,
        'all_plays' as play_id,
        global_candidates.profile_id,
        max(global_candidates.arm) as arm,
        max(case when global_candidates.arm = 'control' then 'global' end) as control_scope,
        max(case when global_candidates.play_order = 1 then global_candidates.channel end) as channel,
        coalesce(max(global_pct.holdout_pct), 0) / 100.0 as expected_control_share,
        max(global_candidates.attribution_days) as attribution_days,
        sum(global_candidates.cost) as cost

    from global_candidates
    left join holdout_pcts as global_pct
        on global_candidates.profile_id = global_pct.profile_id
        and global_pct.scope = 'global'
    group by global_candidates.run_date, global_candidates.profile_id

),

unioned as (

    select * from play_exposures
    union all
    select * from global_exposures

),

final as (

    select
        run_date,
        decided_at,
        scope,
        play_id,
        profile_id,
        arm,
        control_scope,
        channel,
        cast(expected_control_share as {{ omniplay.type_double() }}) as expected_control_share,
        attribution_days,
        {{ dbt.dateadd('day', 'attribution_days', 'decided_at') }} as window_end_at,
        cast(cost as {{ omniplay.type_double() }}) as cost

    from unioned

)

select * from final
