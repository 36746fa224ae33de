select
    node_a,
    node_b
from {{ source('cc_input', 'graph_edges') }}
