{#- For a post-hook: remove the rows of `relation` where `condition` holds (e.g. the
    placeholder rows an incremental delete+insert model writes). Dispatched: Spark tables
    cannot delete, so there the table is rewritten without those rows. -#}
{% macro delete_where(relation, condition) -%}
    {{ return(adapter.dispatch('delete_where', 'omniplay')(relation, condition)) }}
{%- endmacro %}

{% macro default__delete_where(relation, condition) -%}
    delete from {{ relation }} where {{ condition }}
{%- endmacro %}
