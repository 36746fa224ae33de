{#- The model config overrides the round cap; enabled only by the test that expects it to fail. -#}
{{ config(enabled=var('cc_enable_capped_model', false), cc_max_rounds=2) }}

select
    node_a,
    node_b
from {{ source('cc_input', 'chain_edges') }}
