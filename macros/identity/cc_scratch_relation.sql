{#-
    The session-scoped scratch table `<prefix>__cc_<step>`, unqualified: temporary tables
    live outside the model's schema. The prefix is cut to 40 characters so the name stays
    within PostgreSQL's 63 and steps never collide after truncation.
-#}
{% macro cc_scratch_relation(prefix, step) -%}
    {{ return(api.Relation.create(identifier=prefix[:40] ~ '__cc_' ~ step, type='table')) }}
{%- endmacro %}
