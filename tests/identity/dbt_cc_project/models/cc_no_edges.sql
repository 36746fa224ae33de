select
    cast(null as {{ dbt.type_string() }}) as node_a,
    cast(null as {{ dbt.type_string() }}) as node_b
where 1 = 0
