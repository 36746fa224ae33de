{{ config(enabled='segment' in var('omniplay__event_sources')) }}
{#- Page calls (page views), in omniplay's clickstream columns (macros/events/segment_spec_staging.sql). -#}
{{ omniplay.segment_spec_staging('segment', 'pages') }}
