{#-
    Upper tail of the standard normal, P(Z > z), to double precision (absolute error
    about 1e-15): Hart's rational approximation (Hart et al. 1968, algorithm 5666) for
    |z| < 7.07 and a continued fraction beyond, as given by G. West, "Better
    approximations to cumulative normal functions" (Wilmott, 2005). Neither DuckDB nor
    PostgreSQL before 16 has erfc, and the usual short erf approximations (Abramowitz &
    Stegun 7.1.26, error 1.5e-7) are too coarse for p-values checked against scipy to
    1e-9 (tests/measurement). Pass a column or a parenthesized expression: it is repeated.
-#}
{% macro normal_sf(z) -%}
    {{ return(adapter.dispatch('normal_sf', 'omniplay')(z)) }}
{%- endmacro %}

{% macro default__normal_sf(z) -%}
    {%- set x = 'abs(' ~ z ~ ')' -%}
    {%- set num = [0.0352624965998911, 0.700383064443688, 6.37396220353165, 33.912866078383,
                   112.079291497871, 221.213596169931, 220.206867912376] -%}
    {%- set den = [0.0883883476483184, 1.75566716318264, 16.064177579207, 86.7807322029461,
                   296.564248779674, 637.333633378831, 793.826512519948, 440.413735824752] -%}
    {%- set ns = namespace(n=num[0] | string, d=den[0] | string) -%}
    {%- for c in num[1:] %}{% set ns.n = '(' ~ ns.n ~ ') * ' ~ x ~ ' + ' ~ c %}{% endfor -%}
    {%- for c in den[1:] %}{% set ns.d = '(' ~ ns.d ~ ') * ' ~ x ~ ' + ' ~ c %}{% endfor -%}
    {%- set tail -%}
        case
            when {{ x }} > 37 then 0.0
            when {{ x }} < 7.07106781186547 then exp(-{{ x }} * {{ x }} / 2.0) * ({{ ns.n }}) / ({{ ns.d }})
            else exp(-{{ x }} * {{ x }} / 2.0)
                / ({{ x }} + 1.0 / ({{ x }} + 2.0 / ({{ x }} + 3.0 / ({{ x }} + 4.0 / ({{ x }} + 0.65)))))
                / 2.506628274631
        end
    {%- endset -%}
    (case
        when ({{ z }}) is null then null
        when ({{ z }}) >= 0 then {{ tail }}
        else 1.0 - {{ tail }}
    end)
{%- endmacro %}
