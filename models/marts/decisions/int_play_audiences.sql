{{ config(materialized='view') }}
{#-
    Every play's audience, one row per (profile, play), with the audience's own columns as
    a JSON payload: the one place the decision models read the aud_* models. Plays are
    found through dbt's `graph` (omniplay.plays); dbt still needs each ref known before
    it can order the build, hence the depends_on lines below, one per audience, kept in
    step by `omniplay plays sync` (omniplay.validate_plays fails the build naming the
    audience when one is missing).
-#}
-- omniplay:audiences begin
-- depends_on: {{ ref('aud_cart_abandoners') }}
-- depends_on: {{ ref('aud_event_badge_follow_up') }}
-- depends_on: {{ ref('aud_high_intent_store_task') }}
-- depends_on: {{ ref('aud_lapsed_loyalty_winback') }}
-- depends_on: {{ ref('aud_new_loyalty_member_welcome') }}
-- depends_on: {{ ref('aud_repeat_viewers_high_score') }}
-- depends_on: {{ ref('aud_wishlist_back_in_stock') }}
-- omniplay:audiences end
{%- set plays = omniplay.plays() %}

with

{% for play in plays -%}
{{ play.model }} as (

    select * from {{ ref(play.model) }}

),

{% endfor -%}

unioned as (

    {%- for play in plays %}
    {%- set columns = adapter.get_columns_in_relation(ref(play.model)) if execute else [] %}
    {%- set pairs = [] %}
    {%- for column in columns if column.name | lower != 'profile_id' %}
        {%- set dtype = column.data_type | lower %}
        {%- set quoted = adapter.quote(column.name) %}
        {%- if 'time' in dtype or 'date' in dtype %}
            {%- do pairs.append((column.name | lower, 'cast(' ~ quoted ~ ' as ' ~ dbt.type_string() ~ ')')) %}
        {%- else %}
            {%- do pairs.append((column.name | lower, quoted)) %}
        {%- endif %}
    {%- endfor %}

    select
        cast(profile_id as {{ dbt.type_string() }}) as profile_id,
        cast('{{ play.id }}' as {{ dbt.type_string() }}) as play_id,
        {% if pairs -%}
        cast({{ omniplay.json_object(pairs) }} as {{ dbt.type_string() }})
        {%- else -%}
        cast('{}' as {{ dbt.type_string() }})
        {%- endif %} as audience_payload

    from {{ play.model }}
    where profile_id is not null
    {{ "union all" if not loop.last }}
    {%- endfor %}
    {%- if not plays %}

    select
        cast(null as {{ dbt.type_string() }}) as profile_id,
        cast(null as {{ dbt.type_string() }}) as play_id,
        cast(null as {{ dbt.type_string() }}) as audience_payload
    where 1 = 0
    {%- endif %}

),

final as (

    select * from unioned

)

select * from final
