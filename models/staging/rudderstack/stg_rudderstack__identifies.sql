{{ config(enabled='rudderstack' in var('omniplay__event_sources')) }}
{#- Identify calls (who the visitor is: anonymous_id ↔ user_id), in omniplay's clickstream columns
    (macros/events/segment_spec_staging.sql). -#}
{{ omniplay.segment_spec_staging('rudderstack', 'identifies') }}
