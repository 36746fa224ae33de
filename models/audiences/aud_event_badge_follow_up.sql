{#- Badge scanned at an event in the last days (trigger badge_scan_follow_up); trigger_detail is the event code. -#}
{{ omniplay.trigger_audience('badge_scan_follow_up') }}
