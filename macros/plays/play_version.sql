{#- The audit version of a play: md5 of its config (canonical JSON) and the sha256 of its
    template file's text. dbt cannot read files, so `omniplay build` passes the template
    digests as var('omniplay__play_templates') ({name: sha256}, omniplay.plays.template_digests);
    without it the template part is 'unknown'. Same formula as omniplay.plays.play_version. -#}
{% macro play_version(raw) -%}
    {%- set digests = var('omniplay__play_templates', {}) or {} -%}
    {%- set digest = digests.get(raw.get('template'), 'unknown') -%}
    {{ return(local_md5(tojson(raw, sort_keys=true) ~ '|' ~ digest)) }}
{%- endmacro %}
