{#- Active loyalty members whose journey stage is lapsed (trigger lapsed_loyalty_member); trigger_detail is the tier. -#}
{{ omniplay.trigger_audience('lapsed_loyalty_member') }}
