{#- The warehouse relation of another model of this project as the previous build left it,
    or none when it does not exist yet - read without ref(), because the reader runs
    before that model in the build (a ref would be a cycle). Only for state a model
    persists across builds (incremental history such as fct_play_exposures). -#}
{% macro previous_build_relation(model_name) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == model_name -%}
        {{ return(adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias)) }}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("previous_build_relation: no model named '" ~ model_name ~ "'") }}
{%- endmacro %}
