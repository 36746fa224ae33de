{#- Loyalty members enrolled in the last days (trigger new_loyalty_member); trigger_detail is the loyalty id. -#}
{{ omniplay.trigger_audience('new_loyalty_member') }}
