{#- Cart abandoners: the latest add to cart of the last days went unbought (trigger cart_abandonment). -#}
{{ omniplay.trigger_audience('cart_abandonment') }}
