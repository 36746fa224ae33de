{#- Every play in the project, read from dbt's `graph`: each model with
    `config.meta.play`, in decision order (priority, then id). Each item is the play's
    config with defaults filled in, plus `model` (the audience model name), `unique_id`,
    `yml` and `sql` (the files it comes from), `expires_after_minutes` and `version`
    (omniplay.play_version). Disabled plays are left out unless include_disabled.
    Validation is omniplay.validate_plays (on-run-start); this macro only normalizes. -#}
{% macro plays(include_disabled=false) -%}
    {%- set found = [] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() | sort(attribute='unique_id') -%}
            {%- set meta = node.config.meta if node.resource_type == 'model' and node.config.meta is mapping else {} -%}
            {%- set raw = meta.get('play') -%}
            {%- if raw is mapping and raw.get('id') -%}
                {%- set play = {
                    'id': raw['id'],
                    'model': node.name,
                    'unique_id': node.unique_id,
                    'yml': (node.patch_path or '').split('://')[-1],
                    'sql': node.original_file_path,
                    'description': raw.get('description', ''),
                    'owner': raw.get('owner'),
                    'enabled': raw.get('enabled', true),
                    'channels': raw.get('channels') or [],
                    'store_task': raw.get('store_task', false),
                    'intent': raw.get('intent'),
                    'template': raw.get('template'),
                    'schedule': raw.get('schedule') or {},
                    'priority': raw.get('priority'),
                    'holdout_pct': raw.get('holdout_pct', var('omniplay__holdout_play_pct', 10)),
                    'frequency': raw.get('frequency'),
                    'expires_after': raw.get('expires_after', var('omniplay__default_expires_after', '24h')),
                    'decision_period': raw.get('decision_period', 'day'),
                    'windows': raw.get('windows') or {},
                    'destinations': raw.get('destinations') or {},
                    'cost': raw.get('cost') or {},
                    'conversion': raw.get('conversion'),
                    'raw': raw,
                } -%}
                {%- do play.update({
                    'expires_after_minutes': omniplay.duration_minutes(play.expires_after),
                    'version': omniplay.play_version(raw),
                }) -%}
                {%- if include_disabled or play.enabled -%}
                    {%- do found.append(play) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set ordered = found | sort(attribute='id') | sort(attribute='priority') -%}
    {{ return(ordered) }}
{%- endmacro %}
