{#- Every label is a member of its own component and no member is smaller than the label. -#}
with components as (
    select * from {{ ref('cc_graphs') }}
),

labels as (
    select
        component,
        min(node) as smallest_member,
        sum(case when node = component then 1 else 0 end) as label_rows
    from components
    group by component
)

select *
from labels
where smallest_member <> component or label_rows <> 1
