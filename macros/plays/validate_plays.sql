{#- on-run-start: fail the build before anything runs when a play's config is broken,
    naming the file, the play and the field, like omniplay.plays.load_plays (the full
    check, which also parses the cron and the timezone). Checked here: required fields,
    unique ids, known channels, a 5-field cron (or @alias) and a timezone, percentages
    and propensities in range, durations, windows, caps, and the template (present;
    when `omniplay build` passes var('omniplay__play_templates'), also existing).
    Also checks the decision vars (omniplay.contact_caps). Returns no SQL. -#}
{% macro validate_plays() -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set channels = ['email', 'sms', 'store'] -%}
    {%- set templates = var('omniplay__play_templates', {}) or {} -%}
    {%- set cron_field = modules.re.compile('^[0-9A-Za-z*?/,#LW-]+$') -%}
    {%- set clock = modules.re.compile('^([01][0-9]|2[0-3]):[0-5][0-9]$') -%}
    {%- set seen = {} -%}
    {%- set wiring = graph.nodes.get('model.' ~ project_name ~ '.int_play_audiences') -%}
    {%- set wired = wiring.depends_on.nodes if wiring else [] -%}
    {%- for play in omniplay.plays(include_disabled=true) -%}
        {%- set where = (play.yml or play.sql) ~ ": play '" ~ play.id ~ "': " -%}
        {%- set problems = [] -%}
        {%- if play.id is not string or not modules.re.match('^[a-z][a-z0-9_]{0,62}$', play.id) -%}
            {%- do problems.append("id: must be lowercase letters, digits and underscores, starting with a letter") -%}
        {%- endif -%}
        {%- if play.id in seen -%}
            {%- do problems.append("id: '" ~ play.id ~ "' is already used by " ~ seen[play.id]) -%}
        {%- endif -%}
        {%- do seen.update({play.id: play.yml}) -%}
        {%- if not play.model.startswith('aud_') -%}
            {%- do problems.append("model: '" ~ play.model ~ "' must be named aud_<name> (an audience model)") -%}
        {%- endif -%}
        {%- if wiring and play.enabled and play.unique_id not in wired -%}
            {%- do problems.append("model: " ~ play.model ~ " is not wired into decisions yet; run `omniplay plays sync` "
                ~ "(adds `-- depends_on: {{ ref('" ~ play.model ~ "') }}` to models/marts/decisions/int_play_audiences.sql)") -%}
        {%- endif -%}
        {%- if wiring and play.enabled and ('exposure.' ~ project_name ~ '.play_' ~ play.id) not in graph.exposures -%}
            {%- do problems.append("exposure: play_" ~ play.id ~ " is missing from models/audiences/_exposures.yml; run `omniplay plays sync`") -%}
        {%- endif -%}
        {%- if not play.owner -%}
            {%- do problems.append("owner: is required (who answers for this play)") -%}
        {%- endif -%}
        {%- if play.channels is string or play.channels is not iterable or not play.channels -%}
            {%- do problems.append("channels: must be a non-empty list of email, sms, store") -%}
        {%- else -%}
            {%- for channel in play.channels -%}
                {%- if channel not in channels -%}
                    {%- do problems.append("channels: unknown channel '" ~ channel ~ "' (known: email, sms, store)") -%}
                {%- endif -%}
            {%- endfor -%}
            {%- if play.channels | unique | list | length != play.channels | length -%}
                {%- do problems.append("channels: lists a channel twice") -%}
            {%- endif -%}
        {%- endif -%}
        {%- if play.store_task is not sameas true and play.store_task is not sameas false -%}
            {%- do problems.append("store_task: must be true or false") -%}
        {%- elif play.store_task and 'store' in (play.channels or []) -%}
            {%- do problems.append("store_task: adds a store task beside the customer message; do not also list store in channels") -%}
        {%- endif -%}
        {%- if not play.template -%}
            {%- do problems.append("template: is required (a file under activation/templates, without .yml)") -%}
        {%- elif templates and play.template not in templates -%}
            {%- do problems.append("template: no template '" ~ play.template ~ "' in activation/templates") -%}
        {%- endif -%}
        {%- set cron = play.schedule.get('cron') if play.schedule is mapping else none -%}
        {%- set cron_parts = ((cron or '') | string).split() -%}
        {%- if not cron -%}
            {%- do problems.append("schedule.cron: is required, e.g. '0 9 * * *'") -%}
        {%- elif cron_parts[0].startswith('@') -%}
            {%- if cron_parts | length != 1 or cron_parts[0] | lower not in ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'] -%}
                {%- do problems.append("schedule.cron: '" ~ cron ~ "' is not a supported alias") -%}
            {%- endif -%}
        {%- elif cron_parts | length != 5 -%}
            {%- do problems.append("schedule.cron: '" ~ cron ~ "' has " ~ cron_parts | length ~ " fields; expected 5 (minute hour day-of-month month day-of-week)") -%}
        {%- else -%}
            {%- for part in cron_parts if not cron_field.match(part) -%}
                {%- do problems.append("schedule.cron: '" ~ cron ~ "' has an invalid field '" ~ part ~ "'") -%}
            {%- endfor -%}
        {%- endif -%}
        {%- if not (play.schedule is mapping and play.schedule.get('timezone')) -%}
            {%- do problems.append("schedule.timezone: is required, an IANA name such as 'Europe/Berlin'") -%}
        {%- endif -%}
        {%- if play.priority is not number or play.priority is sameas true or play.priority is sameas false or play.priority < 0 or play.priority != play.priority | int -%}
            {%- do problems.append("priority: must be a whole number >= 0 (lower wins)") -%}
        {%- endif -%}
        {%- if play.holdout_pct is not number or play.holdout_pct < 0 or play.holdout_pct > 100 -%}
            {%- do problems.append("holdout_pct: must be a percentage from 0 to 100 (got " ~ play.holdout_pct ~ ")") -%}
        {%- endif -%}
        {%- if play.intent is not none -%}
            {%- if play.intent is not mapping or play.intent.get('channel') not in (play.channels or []) -%}
                {%- do problems.append("intent.channel: must be one of the play's channels") -%}
            {%- elif play.intent.get('min_propensity') is not number or play.intent.min_propensity < 0 or play.intent.min_propensity > 1 -%}
                {%- do problems.append("intent.min_propensity: must be a score from 0 to 1") -%}
            {%- endif -%}
        {%- endif -%}
        {%- if play.expires_after_minutes is none -%}
            {%- do problems.append("expires_after: '" ~ play.expires_after ~ "' is not a duration; use e.g. '48h', '3d' or '90m'") -%}
        {%- endif -%}
        {%- if play.decision_period not in ['hour', 'day', 'week'] -%}
            {%- do problems.append("decision_period: must be hour, day or week") -%}
        {%- endif -%}
        {%- if play.frequency is not none and (play.frequency is not mapping
                or play.frequency.get('max') is not number or play.frequency.max < 1
                or play.frequency.get('days') is not number or play.frequency.days < 1) -%}
            {%- do problems.append("frequency: must be {max: >= 1, days: >= 1}") -%}
        {%- endif -%}
        {%- for channel, window in (play.windows.items() if play.windows is mapping else []) -%}
            {%- if channel not in channels -%}
                {%- do problems.append("windows." ~ channel ~ ": unknown channel (known: email, sms, store)") -%}
            {%- elif window is not mapping or not clock.match(window.get('start', '') | string) or not clock.match(window.get('end', '') | string) or window.start >= window.end -%}
                {%- do problems.append("windows." ~ channel ~ ": must be {start: 'HH:MM', end: 'HH:MM'} with start before end") -%}
            {%- endif -%}
        {%- endfor -%}
        {%- for channel in (play.destinations.keys() | list) + (play.cost.keys() | list) if channel not in channels -%}
            {%- do problems.append("destinations/cost: unknown channel '" ~ channel ~ "'") -%}
        {%- endfor -%}
        {%- for channel, amount in play.cost.items() if amount is not number or amount < 0 -%}
            {%- do problems.append("cost." ~ channel ~ ": must be a number >= 0") -%}
        {%- endfor -%}
        {#- Lift measurement (docs/measurement.md): an attribution window and a price per usable channel. -#}
        {%- set conversion = play.conversion -%}
        {%- if conversion is not mapping -%}
            {%- do problems.append("conversion: is required for lift measurement - what counts as a conversion and the attribution window after the decision, e.g. {event_types: [purchase], window_days: 7}") -%}
        {%- elif conversion.get('window_days') is not number or conversion.window_days < 1 or conversion.window_days > 366 or conversion.window_days != conversion.window_days | int -%}
            {%- do problems.append("conversion.window_days: the attribution window must be whole days from 1 to 366") -%}
        {%- elif conversion.get('event_types') is string or conversion.get('event_types') is not iterable or not conversion.get('event_types') -%}
            {%- do problems.append("conversion.event_types: must be a non-empty list of event types, e.g. [purchase]") -%}
        {%- endif -%}
        {%- set used = (play.channels if play.channels is iterable and play.channels is not string else []) + (['store'] if play.store_task is sameas true else []) -%}
        {%- if play.raw.get('cost') is none -%}
            {%- do problems.append("cost: is required for cost per incremental acquisition - the cost of one message per channel (" ~ used | join(', ') ~ ")") -%}
        {%- else -%}
            {%- for channel in used if channel not in play.cost -%}
                {%- do problems.append("cost: has no price for " ~ channel ~ " (the play can use " ~ used | join(', ') ~ ")") -%}
            {%- endfor -%}
        {%- endif -%}
        {%- if problems -%}
            {{ exceptions.raise_compiler_error(where ~ problems[0]) }}
        {%- endif -%}
    {%- endfor -%}
    {%- do omniplay.contact_caps() -%}
    {{ return('') }}
{%- endmacro %}
