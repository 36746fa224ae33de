{#- var('omniplay__guardrails') with defaults filled in and checked; fails naming the var
    and the field. Used by int_play_guardrail_rates (docs/measurement.md). -#}
{% macro guardrail_config() -%}
    {%- set defaults = {
        'lookback_days': 14, 'response_days': 3, 'min_messages': 50,
        'metrics': {
            'opt_out_rate': {'max_rate': 0.02, 'max_ratio': 3.0},
            'unsubscribe_rate': {'max_rate': 0.01, 'max_ratio': 3.0},
            'complaint_rate': {'max_rate': 0.002, 'max_ratio': 3.0},
        },
    } -%}
    {%- set given = var('omniplay__guardrails', {}) or {} -%}
    {%- if given is not mapping -%}
        {{ exceptions.raise_compiler_error("var omniplay__guardrails: must be a mapping (lookback_days, response_days, min_messages, metrics)") }}
    {%- endif -%}
    {%- set config = {} -%}
    {%- for key in ['lookback_days', 'response_days', 'min_messages'] -%}
        {%- set value = given.get(key, defaults[key]) -%}
        {%- if value is not number or value < 1 or value != value | int -%}
            {{ exceptions.raise_compiler_error("var omniplay__guardrails: " ~ key ~ ": must be a whole number >= 1 (got " ~ value ~ ")") }}
        {%- endif -%}
        {%- do config.update({key: value | int}) -%}
    {%- endfor -%}
    {%- set metrics = {} -%}
    {%- set given_metrics = given.get('metrics', {}) or {} -%}
    {%- for name in given_metrics if name not in defaults.metrics -%}
        {{ exceptions.raise_compiler_error("var omniplay__guardrails: metrics." ~ name ~ ": unknown metric (known: opt_out_rate, unsubscribe_rate, complaint_rate)") }}
    {%- endfor -%}
    {%- for name, limits in defaults.metrics.items() -%}
        {%- set merged = {'max_rate': limits.max_rate, 'max_ratio': limits.max_ratio} -%}
        {%- do merged.update(given_metrics.get(name, {}) or {}) -%}
        {%- if merged.max_rate is not number or merged.max_rate < 0 or merged.max_rate > 1 -%}
            {{ exceptions.raise_compiler_error("var omniplay__guardrails: metrics." ~ name ~ ".max_rate: must be a rate from 0 to 1") }}
        {%- endif -%}
        {%- if merged.max_ratio is not number or merged.max_ratio < 1 -%}
            {{ exceptions.raise_compiler_error("var omniplay__guardrails: metrics." ~ name ~ ".max_ratio: must be a number >= 1 (times the baseline)") }}
        {%- endif -%}
        {%- do metrics.update({name: merged}) -%}
    {%- endfor -%}
    {%- do config.update({'metrics': metrics}) -%}
    {{ return(config) }}
{%- endmacro %}
