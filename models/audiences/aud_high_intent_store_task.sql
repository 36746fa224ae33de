{#- A burst of product interactions without a purchase (trigger high_intent): a task for an associate at the home store. -#}
{{ omniplay.trigger_audience('high_intent') }}
