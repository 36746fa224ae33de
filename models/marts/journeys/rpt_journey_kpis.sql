{#- Journey KPIs in one long table (kpi, dimension, numerator, denominator, value):
    completion rate, time to value, the stage transition matrix and cross-channel shares. -#}
with

journeys as (

    select * from {{ ref('fct_customer_journeys') }}

),

stage_history as (

    select * from {{ ref('fct_journey_stage_history') }}

),

completion as (

    select
        'journey_completion_rate' as kpi,
        'all' as dimension,
        cast(sum(case when is_converted then 1 else 0 end) as {{ omniplay.type_double() }}) as numerator,
        cast(count(*) as {{ omniplay.type_double() }}) as denominator

    from journeys

),

time_to_value as (

    select
        'time_to_value_hours' as kpi,
        statistic as dimension,
        cast(null as {{ omniplay.type_double() }}) as numerator,
        cast(null as {{ omniplay.type_double() }}) as denominator,
        value

    from (
        select 'median' as statistic, percentile_cont(0.5) within group (order by time_to_value_hours) as value
        from journeys where is_converted
        union all
        select 'p90', percentile_cont(0.9) within group (order by time_to_value_hours)
        from journeys where is_converted
        union all
        select 'mean', avg(time_to_value_hours)
        from journeys where is_converted
    ) as statistics

),

transitions as (

    select
        coalesce(previous_stage, 'none') as from_stage,
        stage as to_stage,
        count(*) as transitions

    from stage_history
    group by coalesce(previous_stage, 'none'), stage

),

{#- Each cell as a share of all transitions out of its from-stage. -#}
transition_matrix as (

    select
        'stage_transition' as kpi,
        from_stage || ' -> ' || to_stage as dimension,
        cast(transitions as {{ omniplay.type_double() }}) as numerator,
        cast(sum(transitions) over (partition by from_stage) as {{ omniplay.type_double() }}) as denominator

    from transitions

),

{#- Shares of converted journeys whose conversion crossed channels (conversion_crossing) and
    whose purchases did (purchase_crossing), in any direction and per direction. -#}
{%- set crossing_kpis = {
    'conversion_crossing': 'cross_channel_conversion_share',
    'purchase_crossing': 'purchase_channel_crossing_share',
} %}
{%- for crossing_column, kpi in crossing_kpis.items() %}
{{ crossing_column }} as (

    select
        '{{ kpi }}' as kpi,
        directions.direction as dimension,
        cast(sum(case
            when directions.direction = 'any' and journeys.{{ crossing_column }} is not null then 1
            when journeys.{{ crossing_column }} = directions.direction then 1
            else 0
        end) as {{ omniplay.type_double() }}) as numerator,
        cast(count(*) as {{ omniplay.type_double() }}) as denominator

    from journeys
    cross join (
        select 'any' as direction
        union all select 'online_to_store'
        union all select 'store_to_online'
    ) as directions
    where journeys.is_converted
    group by directions.direction

),
{% endfor %}

ratios as (

    select * from completion
    union all
    select * from transition_matrix
    union all
    select * from conversion_crossing
    union all
    select * from purchase_crossing

),

final as (

    select
        kpi,
        dimension,
        numerator,
        denominator,
        case when denominator > 0 then numerator / denominator end as value

    from ratios

    union all

    select * from time_to_value

)

select * from final
