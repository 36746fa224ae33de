{#- Viewed one product at least twice with a high purchase score (trigger repeat_product_view). -#}
{{ omniplay.trigger_audience('repeat_product_view') }}
