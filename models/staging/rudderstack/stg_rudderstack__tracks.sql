{{ config(enabled='rudderstack' in var('omniplay__event_sources')) }}
{#- Track calls (named customer actions), in omniplay's clickstream columns (macros/events/segment_spec_staging.sql). -#}
{{ omniplay.segment_spec_staging('rudderstack', 'tracks') }}
