select
    node_a,
    node_b
from {{ source('cc_input', 'chain_edges') }}
