{#-
    Run one statement of the solver and return its result table. Unlike `run_query` it opens
    a transaction when none is open, so the solver can commit after each round.
-#}
{% macro cc_run_sql(sql) -%}
    {% call statement('cc_run_sql', fetch_result=True, auto_begin=True) -%}
        {{ sql }}
    {%- endcall %}
    {{ return(load_result('cc_run_sql').table) }}
{%- endmacro %}
