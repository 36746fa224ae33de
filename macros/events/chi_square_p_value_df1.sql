{#-
    Upper-tail p-value of a chi-square statistic with one degree of freedom:
    p = erfc(sqrt(x / 2)). Neither DuckDB nor PostgreSQL before 16 has erfc, so the
    default uses Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7, ample for an
    alpha of 0.001; the statistic against 10.828 is the exact test at that alpha).
-#}
{% macro chi_square_p_value_df1(statistic) -%}
    {{ return(adapter.dispatch('chi_square_p_value_df1', 'omniplay')(statistic)) }}
{%- endmacro %}

{% macro default__chi_square_p_value_df1(statistic) -%}
    {%- set z = "sqrt((" ~ statistic ~ ") / 2.0)" -%}
    {%- set t = "(1.0 / (1.0 + 0.3275911 * " ~ z ~ "))" -%}
    (case when ({{ statistic }}) is null then null else
        {{ t }} * (0.254829592 + {{ t }} * (-0.284496736 + {{ t }} * (1.421413741
            + {{ t }} * (-1.453152027 + {{ t }} * 1.061405429))))
        * exp(-(({{ statistic }}) / 2.0))
    end)
{%- endmacro %}
