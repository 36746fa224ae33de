{#- Decision outcomes per run, play, outcome, detail and channel, with each play's share:
    the "why not sent" report behind `omniplay audience preview`. -#}
with

decisions as (

    select * from {{ ref('fct_play_decisions') }}

),

counted as (

    select
        run_date,
        play_id,
        outcome,
        outcome_detail,
        channel,
        count(*) as profiles

    from decisions
    group by run_date, play_id, outcome, outcome_detail, channel

),

final as (

    select
        counted.*,
        cast(counted.profiles as {{ omniplay.type_double() }})
            / sum(counted.profiles) over (partition by counted.run_date, counted.play_id) as share_of_candidates

    from counted

)

select * from final
