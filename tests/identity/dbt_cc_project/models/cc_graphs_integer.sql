{{ config(cc_integer_nodes=true) }}
{#- cc_graphs with integer node ids (g<i>_<v> -> i * 1000000 + v), which the solver uses as they are. -#}

select
    {%- for column in ['node_a', 'node_b'] %}
    cast({{ dbt.split_part("substr(" ~ column ~ ", 2)", "'_'", 1) }} as bigint) * 1000000
    + cast({{ dbt.split_part(column, "'_'", 2) }} as bigint) as {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
from {{ source('cc_input', 'graph_edges') }}
