{#-
    Upper-tail p-value of a chi-square statistic with one degree of freedom:
    p = erfc(sqrt(x / 2)) = 2 * P(Z > sqrt(x)), with the double-precision normal tail
    of omniplay.normal_sf (neither DuckDB nor PostgreSQL before 16 has erfc).
-#}
{% macro chi_square_p_value_df1(statistic) -%}
    {{ return(adapter.dispatch('chi_square_p_value_df1', 'omniplay')(statistic)) }}
{%- endmacro %}

{% macro default__chi_square_p_value_df1(statistic) -%}
    (case when ({{ statistic }}) is null then null
        else 2.0 * {{ omniplay.normal_sf('sqrt(' ~ statistic ~ ')') }}
    end)
{%- endmacro %}
