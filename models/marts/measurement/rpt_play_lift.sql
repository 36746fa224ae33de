{#-
    Lift per play and run, per channel and overall (`channel = 'all'`), and for the global
    control group (`scope = 'global'`, play_id `all_plays`), one row per metric
    (docs/measurement.md). Units are fct_play_outcomes rows: treatment (selected) against
    control (would have been selected, held out). Everything comes from per-arm
    sufficient statistics - counts, means, var_samp, covar_samp - in SQL, and equals
    omniplay.stats / statsmodels with normal reference distributions (tests/measurement):
    - proportions (conversion metrics): two-proportion z test with the pooled variance,
      unpooled Wald interval (statsmodels proportions_ztest, confint_proportions_2indep);
    - means (revenue, margin): unequal-variance z test and interval (statsmodels
      CompareMeans ztest_ind / zconfint_diff, usevar='unequal');
    - relative lift m_t / m_c - 1 by the delta method, normal interval;
    - CUPED with pre_revenue as covariate: pooled within-arm theta, z test on the
      adjusted outcome (omniplay.stats.cuped, dist='normal');
    - SRM: Pearson chi-square (df 1) of the arm sizes against the shares the holdout
      percentages promise; is_srm when srm_p_value < var('omniplay__srm_alpha').
    p-values use omniplay.normal_sf (double precision). A statistic the data cannot
    define (an arm under two units, no variation, a zero control mean) is null.
-#}
{%- set metrics = [
    ('conversion', 'converted', 'proportion'),
    ('store_conversion', 'store_converted', 'proportion'),
    ('online_conversion', 'online_converted', 'proportion'),
    ('assisted_conversion', 'assisted_converted', 'proportion'),
    ('revenue', 'revenue', 'mean'),
    ('margin', 'margin', 'mean'),
    ('store_revenue', 'store_revenue', 'mean'),
    ('online_revenue', 'online_revenue', 'mean'),
] -%}
{%- set z = omniplay.normal_quantile(var('omniplay__lift_confidence')) -%}
{%- set double = omniplay.type_double() -%}

with

outcomes as (

    select * from {{ ref('fct_play_outcomes') }}

),

as_of as (

    select {{ omniplay.as_of_timestamp() }} as as_of_at

),

units as (

    select
        scope,
        play_id,
        run_date,
        channel,
        arm,
        expected_control_share,
        cost,
        is_mature,
        pre_revenue,
        {%- for name, column, kind in metrics %}
        cast({{ column }} as {{ double }}) as m_{{ name }}{{ "," if not loop.last }}
        {%- endfor %}

    from outcomes
    where channel is not null

),

{#- Every unit twice: under its own channel and under 'all'. -#}
channels as (

    select *, channel as report_channel from units
    union all
    select *, 'all' as report_channel from units

),

metric_units as (

    {%- for name, column, kind in metrics %}
    select
        scope, play_id, run_date, report_channel as channel, arm, expected_control_share, cost, is_mature,
        '{{ name }}' as metric,
        '{{ kind }}' as metric_kind,
        m_{{ name }} as y,
        pre_revenue as x
    from channels
    {{ "union all" if not loop.last }}
    {%- endfor %}

),

arms as (

    select
        scope,
        play_id,
        run_date,
        channel,
        metric,
        metric_kind,
        arm,
        count(*) as n,
        avg(y) as mean_y,
        var_samp(y) as var_y,
        avg(x) as mean_x,
        var_samp(x) as var_x,
        covar_samp(y, x) as cov_xy,
        sum(expected_control_share) as expected_control,
        sum(cost) as cost,
        min(case when is_mature then 1 else 0 end) as all_mature

    from metric_units
    group by scope, play_id, run_date, channel, metric, metric_kind, arm

),

paired as (

    select
        coalesce(t.scope, c.scope) as scope,
        coalesce(t.play_id, c.play_id) as play_id,
        coalesce(t.run_date, c.run_date) as run_date,
        coalesce(t.channel, c.channel) as channel,
        coalesce(t.metric, c.metric) as metric,
        coalesce(t.metric_kind, c.metric_kind) as metric_kind,
        cast(coalesce(t.n, 0) as {{ dbt.type_bigint() }}) as n_treatment,
        cast(coalesce(c.n, 0) as {{ dbt.type_bigint() }}) as n_control,
        cast(t.mean_y as {{ double }}) as mean_treatment,
        cast(c.mean_y as {{ double }}) as mean_control,
        {#- Proportions use the Wald variance p(1 - p); means the sample variance. -#}
        cast(case when coalesce(t.metric_kind, c.metric_kind) = 'proportion'
            then t.mean_y * (1.0 - t.mean_y) else t.var_y end as {{ double }}) as var_treatment,
        cast(case when coalesce(t.metric_kind, c.metric_kind) = 'proportion'
            then c.mean_y * (1.0 - c.mean_y) else c.var_y end as {{ double }}) as var_control,
        cast(t.var_y as {{ double }}) as sample_var_treatment,
        cast(c.var_y as {{ double }}) as sample_var_control,
        cast(t.mean_x as {{ double }}) as mean_x_treatment,
        cast(c.mean_x as {{ double }}) as mean_x_control,
        cast(t.var_x as {{ double }}) as var_x_treatment,
        cast(c.var_x as {{ double }}) as var_x_control,
        cast(t.cov_xy as {{ double }}) as cov_treatment,
        cast(c.cov_xy as {{ double }}) as cov_control,
        cast(coalesce(t.expected_control, 0) + coalesce(c.expected_control, 0) as {{ double }}) as expected_control,
        cast(coalesce(t.cost, 0) as {{ double }}) as cost_total,
        coalesce(t.all_mature, 1) = 1 and coalesce(c.all_mature, 1) = 1 as is_mature

    from (select * from arms where arm = 'treatment') as t
    full outer join (select * from arms where arm = 'control') as c
        on t.scope = c.scope
        and t.play_id = c.play_id
        and t.run_date = c.run_date
        and t.channel = c.channel
        and t.metric = c.metric

),

estimates as (

    select
        *,
        n_treatment >= 2 and n_control >= 2 as has_arms,
        mean_treatment - mean_control as lift_abs,
        sqrt(var_treatment / nullif(n_treatment, 0) + var_control / nullif(n_control, 0)) as lift_abs_se,
        {#- Pooled standard error under H0 for proportions (the z test's). -#}
        sqrt(
            ((mean_treatment * n_treatment + mean_control * n_control) / nullif(n_treatment + n_control, 0))
            * (1.0 - (mean_treatment * n_treatment + mean_control * n_control) / nullif(n_treatment + n_control, 0))
            * (1.0 / nullif(n_treatment, 0) + 1.0 / nullif(n_control, 0))
        ) as pooled_se,
        case when mean_control <> 0 then mean_treatment / mean_control - 1.0 end as lift_rel,
        case when mean_control <> 0 then sqrt(
            var_treatment / (nullif(n_treatment, 0) * mean_control * mean_control)
            + mean_treatment * mean_treatment * var_control
                / (nullif(n_control, 0) * mean_control * mean_control * mean_control * mean_control)
        ) end as lift_rel_se,
        {#- CUPED: pooled within-arm theta, covariate mean over both arms. -#}
        ((n_treatment - 1) * cov_treatment + (n_control - 1) * cov_control)
            / nullif((n_treatment - 1) * var_x_treatment + (n_control - 1) * var_x_control, 0) as cuped_theta,
        (n_treatment * mean_x_treatment + n_control * mean_x_control) / nullif(n_treatment + n_control, 0)
            as cuped_mean_x,
        {#- SRM: observed control count against the promised expected_control. -#}
        case when expected_control > 0 and n_treatment + n_control - expected_control > 0 then
            (n_control - expected_control) * (n_control - expected_control) / expected_control
            + (n_treatment - (n_treatment + n_control - expected_control))
                * (n_treatment - (n_treatment + n_control - expected_control))
                / (n_treatment + n_control - expected_control)
        end as srm_chi_square

    from paired

),

cuped as (

    select
        *,
        mean_treatment - cuped_theta * (mean_x_treatment - cuped_mean_x) as cuped_mean_treatment,
        mean_control - cuped_theta * (mean_x_control - cuped_mean_x) as cuped_mean_control,
        greatest(sample_var_treatment - 2.0 * cuped_theta * cov_treatment
            + cuped_theta * cuped_theta * var_x_treatment, 0.0) as cuped_var_treatment,
        greatest(sample_var_control - 2.0 * cuped_theta * cov_control
            + cuped_theta * cuped_theta * var_x_control, 0.0) as cuped_var_control

    from estimates

),

cuped_estimates as (

    select
        *,
        cuped_mean_treatment - cuped_mean_control as cuped_lift_abs,
        sqrt(cuped_var_treatment / nullif(n_treatment, 0) + cuped_var_control / nullif(n_control, 0)) as cuped_se,
        sqrt(sample_var_treatment / nullif(n_treatment, 0) + sample_var_control / nullif(n_control, 0)) as raw_sample_se,
        case when cuped_mean_control <> 0 then cuped_mean_treatment / cuped_mean_control - 1.0 end as cuped_lift_rel,
        case when cuped_mean_control <> 0 then sqrt(
            cuped_var_treatment / (nullif(n_treatment, 0) * cuped_mean_control * cuped_mean_control)
            + cuped_mean_treatment * cuped_mean_treatment * cuped_var_control
                / (nullif(n_control, 0) * cuped_mean_control * cuped_mean_control * cuped_mean_control * cuped_mean_control)
        ) end as cuped_lift_rel_se

    from cuped

),

statistics as (

    select
        *,
        case when has_arms and lift_abs_se > 0 then lift_abs / lift_abs_se end as lift_abs_z_wald,
        case when has_arms and metric_kind = 'proportion' and pooled_se > 0 then lift_abs / pooled_se
             when has_arms and metric_kind = 'mean' and lift_abs_se > 0 then lift_abs / lift_abs_se end as z_statistic,
        case when has_arms and lift_rel_se > 0 then lift_rel / lift_rel_se end as lift_rel_z,
        case when has_arms and cuped_se > 0 then cuped_lift_abs / cuped_se end as cuped_z,
        case when has_arms and cuped_lift_rel_se > 0 then cuped_lift_rel / cuped_lift_rel_se end as cuped_lift_rel_z

    from cuped_estimates

),

final as (

    select
        scope,
        play_id,
        run_date,
        channel,
        metric,
        metric_kind,
        n_treatment,
        n_control,
        mean_treatment,
        mean_control,
        {#- Contract names: rates are the arm means (conversion rate or revenue per profile). -#}
        mean_treatment as rate_treatment,
        mean_control as rate_control,
        case when has_arms then lift_abs end as lift_abs,
        case when has_arms then lift_abs_se end as lift_abs_se,
        case when has_arms and lift_abs_se > 0 then lift_abs - {{ z }} * lift_abs_se end as ci_low,
        case when has_arms and lift_abs_se > 0 then lift_abs + {{ z }} * lift_abs_se end as ci_high,
        z_statistic,
        2.0 * {{ omniplay.normal_sf('abs(z_statistic)') }} as p_value,
        case when has_arms then lift_rel end as lift_rel,
        case when has_arms then lift_rel_se end as lift_rel_se,
        case when has_arms and lift_rel_se > 0 then lift_rel - {{ z }} * lift_rel_se end as lift_rel_ci_low,
        case when has_arms and lift_rel_se > 0 then lift_rel + {{ z }} * lift_rel_se end as lift_rel_ci_high,
        2.0 * {{ omniplay.normal_sf('abs(lift_rel_z)') }} as lift_rel_p_value,
        case when n_treatment + n_control > 0 then expected_control / (n_treatment + n_control) end
            as expected_control_share,
        srm_chi_square,
        {{ omniplay.chi_square_p_value_df1('srm_chi_square') }} as srm_p_value,
        coalesce({{ omniplay.chi_square_p_value_df1('srm_chi_square') }} < {{ var('omniplay__srm_alpha') }}, false) as is_srm,
        case when has_arms then lift_abs * n_treatment end as incremental_total,
        case when metric = 'conversion' and has_arms then lift_abs * n_treatment end as incremental_conversions,
        cost_total,
        case when metric_kind = 'proportion' and has_arms and lift_abs * n_treatment > 0
            then cost_total / (lift_abs * n_treatment) end as cost_per_incremental,
        case when has_arms then cuped_theta end as cuped_theta,
        case when has_arms then cuped_lift_abs end as cuped_lift_abs,
        case when has_arms then cuped_se end as cuped_lift_abs_se,
        case when has_arms and cuped_se > 0 then cuped_lift_abs - {{ z }} * cuped_se end as cuped_ci_low,
        case when has_arms and cuped_se > 0 then cuped_lift_abs + {{ z }} * cuped_se end as cuped_ci_high,
        2.0 * {{ omniplay.normal_sf('abs(cuped_z)') }} as cuped_p_value,
        case when has_arms then cuped_lift_rel end as cuped_lift_rel,
        case when has_arms and cuped_lift_rel_se > 0 then cuped_lift_rel - {{ z }} * cuped_lift_rel_se end
            as cuped_lift_rel_ci_low,
        case when has_arms and cuped_lift_rel_se > 0 then cuped_lift_rel + {{ z }} * cuped_lift_rel_se end
            as cuped_lift_rel_ci_high,
        case when has_arms and raw_sample_se > 0 and cuped_se is not null
            then 1.0 - (cuped_se * cuped_se) / (raw_sample_se * raw_sample_se) end as cuped_variance_reduction,
        cast({{ var('omniplay__lift_confidence') }} as {{ double }}) as confidence_level,
        is_mature,
        as_of.as_of_at as computed_at

    from statistics
    cross join as_of

)

select * from final
