{#- The holdout scopes as a list of {scope, holdout_pct}: `global` with
    var('omniplay__holdout_global_pct'), then every play found in the project (a model
    with config.meta.play) with its own holdout_pct (var('omniplay__holdout_play_pct')
    when the play sets none). -#}
{% macro holdout_scopes() -%}
    {%- set scopes = [{'scope': 'global', 'holdout_pct': var('omniplay__holdout_global_pct')}] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() | sort(attribute='unique_id') -%}
            {%- set play = node.config.meta.play if node.resource_type == 'model' and node.config.meta is mapping else none -%}
            {%- if play is mapping and play.get('id') -%}
                {%- do scopes.append({
                    'scope': play['id'],
                    'holdout_pct': play.get('holdout_pct', var('omniplay__holdout_play_pct')),
                }) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- for item in scopes -%}
        {%- if item.holdout_pct is not number or item.holdout_pct < 0 or item.holdout_pct > 100 -%}
            {{ exceptions.raise_compiler_error(
                "Holdout percentage of scope '" ~ item.scope ~ "' must be a number from 0 to 100 (got "
                ~ item.holdout_pct ~ "). Please set holdout_pct in the play's config.meta.play, "
                ~ "or var omniplay__holdout_global_pct / omniplay__holdout_play_pct."
            ) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(scopes) }}
{%- endmacro %}
