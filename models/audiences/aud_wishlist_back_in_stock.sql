{#- A wishlisted product is back in stock at the home store (trigger back_in_stock). -#}
{{ omniplay.trigger_audience('back_in_stock') }}
