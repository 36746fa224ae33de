{#- The session-scoped scratch table `<prefix>__cc_<step>` (unqualified: temporary tables live outside the model's schema). -#}
{% macro cc_scratch_relation(prefix, step) -%}
    {{ return(api.Relation.create(identifier=prefix ~ '__cc_' ~ step, type='table')) }}
{%- endmacro %}
