{#- The merge log of holdouts: each retired profile id's arm per scope beside the arm of
    the surviving id, which is the one that stands. -#}
with

assignments as (

    select * from {{ ref('dim_holdout_assignments') }}

),

retired as (

    select * from assignments
    where status = 'retired'

),

final as (

    select
        retired.profile_id as retired_profile_id,
        retired.scope,
        retired.arm as retired_arm,
        retired.retired_into_profile_id as surviving_profile_id,
        survivor.arm as surviving_arm,
        retired.arm = survivor.arm as arms_agree,
        retired.retired_at

    from retired
    left join assignments as survivor
        on retired.retired_into_profile_id = survivor.profile_id
        and retired.scope = survivor.scope
        and survivor.status = 'active'

)

select * from final
