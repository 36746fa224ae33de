{#-
    Stable profile ids. This model reads its own previous version (when there is one), so
    a profile keeps its id across builds, full refreshes included, unless it merges
    (node ids are renumbered every build: the previous version is matched on the
    identifier itself):

    - a component whose members carry no id yet gets a new one, derived from its
      earliest-seen member (md5 of its `<identifier_type>:<identifier_value>`, so it is
      reproducible);
    - a component whose members carry one id keeps it;
    - a component whose members carry several ids is a merge: the id held by the
      earliest-seen member that has one survives, the others are retired
      (fct_identity_merges logs old id -> new id);
    - a split (one old id now spread over several components) leaves the id with the
      component holding that profile's earliest-seen member; the others get new ids.
-#}
{%- set previous = adapter.get_relation(this.database, this.schema, this.identifier) -%}

with

components as (

    select * from {{ ref('int_identity_components') }}

),

nodes as (

    select * from {{ ref('int_identity_nodes') }}

),

previous_assignments as (

    {% if previous is not none %}
    select
        identifier_type,
        identifier_value,
        profile_id as previous_profile_id,
        assigned_at as previous_assigned_at

    from {{ previous }}
    {% else %}
    select
        cast(null as {{ dbt.type_string() }}) as identifier_type,
        cast(null as {{ dbt.type_string() }}) as identifier_value,
        cast(null as {{ dbt.type_string() }}) as previous_profile_id,
        cast(null as {{ dbt.type_timestamp() }}) as previous_assigned_at

    where 1 = 0
    {% endif %}

),

members as (

    select
        components.node,
        components.component,
        nodes.identifier_type,
        nodes.identifier_value,
        nodes.first_seen_at,
        nodes.last_seen_at,
        nodes.records,
        previous_assignments.previous_profile_id,
        previous_assignments.previous_assigned_at,
        row_number() over (
            partition by components.component
            order by nodes.first_seen_at, components.node
        ) as seniority

    from components
    inner join nodes
        on components.node = nodes.node
    left join previous_assignments
        on nodes.identifier_type = previous_assignments.identifier_type
        and nodes.identifier_value = previous_assignments.identifier_value

),

{#- For each (component, old id): how senior its most senior holder is. -#}
claims as (

    select
        component,
        previous_profile_id,
        min(seniority) as best_seniority

    from members
    where previous_profile_id is not null
    group by component, previous_profile_id

),

{#- An old id split over several components stays with the component holding its
    earliest-seen member. -#}
claim_owners as (

    select
        claims.component,
        claims.previous_profile_id,
        claims.best_seniority,
        row_number() over (
            partition by claims.previous_profile_id
            order by owner.first_seen_at, owner.node
        ) as claim_rank

    from claims
    inner join members as owner
        on claims.component = owner.component
        and claims.best_seniority = owner.seniority

),

surviving_ids as (

    select
        component,
        previous_profile_id as profile_id

    from (
        select
            component,
            previous_profile_id,
            row_number() over (partition by component order by best_seniority) as survivor_rank
        from claim_owners
        where claim_rank = 1
    ) as ranked
    where survivor_rank = 1

),

new_ids as (

    select
        component,
        'p_' || substr(md5(identifier_type || ':' || identifier_value), 1, 20) as profile_id

    from members
    where seniority = 1

),

final as (

    select
        members.node,
        members.identifier_type,
        members.identifier_value,
        coalesce(surviving_ids.profile_id, new_ids.profile_id) as profile_id,
        members.previous_profile_id,
        case
            when members.previous_profile_id = coalesce(surviving_ids.profile_id, new_ids.profile_id)
                then members.previous_assigned_at
            else {{ omniplay.identity_build_timestamp() }}
        end as assigned_at,
        members.first_seen_at,
        members.last_seen_at,
        members.records

    from members
    left join surviving_ids
        on members.component = surviving_ids.component
    inner join new_ids
        on members.component = new_ids.component

)

select * from final
