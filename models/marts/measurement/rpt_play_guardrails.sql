{#- Guardrail rates and thresholds per play and metric beside the play's pause status. -#}
with

rates as (

    select * from {{ ref('int_play_guardrail_rates') }}

),

status as (

    select * from {{ ref('dim_play_status') }}

),

final as (

    select
        rates.*,
        coalesce(status.is_paused, false) as is_paused,
        status.last_paused_at,
        status.last_breached_metrics,
        status.last_resumed_at

    from rates
    left join status
        on rates.play_id = status.play_id

)

select * from final
