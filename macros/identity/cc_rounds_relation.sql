{#-
    The round log of connected-components builds (var omniplay__cc_rounds_table, default
    identity_cc_rounds) in the schema of `relation` (the model), else in `schema`, else in
    the target schema.
-#}
{% macro cc_rounds_relation(relation=none, schema=none) -%}
    {{ return(api.Relation.create(
        database=relation.database if relation is not none else target.database,
        schema=relation.schema if relation is not none else (schema or target.schema),
        identifier=var('omniplay__cc_rounds_table', 'identity_cc_rounds'),
        type='table',
    )) }}
{%- endmacro %}
