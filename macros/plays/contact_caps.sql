{#- The global contact budget, from vars, validated:
    - var('omniplay__contact_caps'): {scope: {max, days}} with scope `any` (every
      channel: marketing touches), `email`, `sms` or `store`. Default: 3 touches per 7
      days, 1 SMS per 3 days, 1 store task per 14 days.
    - var('omniplay__contact_caps_persona_attribute'): a dim_profiles column naming a
      persona (default loyalty_tier); var('omniplay__contact_caps_by_persona'):
      {persona value: {scope: {max, days}}} overrides merged over the defaults.
    - var('omniplay__max_plays_per_channel'): plays one profile may get per channel in
      one run (default 1: lower priority number wins, ties by play id).
    - var('omniplay__ledger_counted_statuses'): send-ledger statuses that count as a
      touch (default pending, sent, ambiguous: anything that may have reached the person).
    Returns {default, personas, attribute, max_per_channel, statuses, scopes} where
    `scopes` lists every distinct (scope, days) some cap needs counted. -#}
{% macro contact_caps() -%}
    {%- set scopes_known = ['any', 'email', 'sms', 'store'] -%}
    {%- set defaults = var('omniplay__contact_caps', {
        'any': {'max': 3, 'days': 7},
        'sms': {'max': 1, 'days': 3},
        'store': {'max': 1, 'days': 14},
    }) -%}
    {%- set by_persona = var('omniplay__contact_caps_by_persona', {}) or {} -%}
    {%- set attribute = var('omniplay__contact_caps_persona_attribute', 'loyalty_tier') -%}
    {%- set max_per_channel = var('omniplay__max_plays_per_channel', 1) -%}
    {%- set statuses = var('omniplay__ledger_counted_statuses', ['pending', 'sent', 'ambiguous']) -%}

    {%- set ns = namespace(caps_sets=[('var omniplay__contact_caps', defaults)]) -%}
    {%- if by_persona is not mapping -%}
        {{ exceptions.raise_compiler_error("var omniplay__contact_caps_by_persona must be a mapping {persona value: {scope: {max, days}}}") }}
    {%- endif -%}
    {%- for persona, caps in by_persona.items() -%}
        {%- do ns.caps_sets.append(('var omniplay__contact_caps_by_persona.' ~ persona, caps)) -%}
    {%- endfor -%}
    {%- for label, caps in ns.caps_sets -%}
        {%- if caps is not mapping -%}
            {{ exceptions.raise_compiler_error(label ~ ": must be a mapping {scope: {max, days}}") }}
        {%- endif -%}
        {%- for scope, cap in caps.items() -%}
            {%- if scope not in scopes_known -%}
                {{ exceptions.raise_compiler_error(label ~ "." ~ scope ~ ": unknown scope (known: any, email, sms, store)") }}
            {%- endif -%}
            {%- if cap is not mapping or cap.get('max') is not number or cap.max < 0
                    or cap.get('days') is not number or cap.days < 1 or cap.days != cap.days | int -%}
                {{ exceptions.raise_compiler_error(label ~ "." ~ scope ~ ": must be {max: >= 0, days: whole number >= 1}") }}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if max_per_channel is not number or max_per_channel < 1 -%}
        {{ exceptions.raise_compiler_error("var omniplay__max_plays_per_channel must be a whole number >= 1") }}
    {%- endif -%}
    {%- if attribute and not modules.re.match('^[a-z_][a-z0-9_]*$', attribute) -%}
        {{ exceptions.raise_compiler_error("var omniplay__contact_caps_persona_attribute must name a dim_profiles column") }}
    {%- endif -%}

    {%- set personas = {} -%}
    {%- for persona, caps in by_persona.items() -%}
        {%- set merged = {} -%}
        {%- do merged.update(defaults) -%}
        {%- do merged.update(caps) -%}
        {%- do personas.update({persona | string: merged}) -%}
    {%- endfor -%}
    {%- set scopes = [] -%}
    {%- for caps in [defaults] + (personas.values() | list) -%}
        {%- for scope, cap in caps.items() -%}
            {%- set key = (scope, cap.days | int) -%}
            {%- if key not in scopes -%}
                {%- do scopes.append(key) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return({
        'default': defaults,
        'personas': personas,
        'attribute': attribute,
        'max_per_channel': max_per_channel | int,
        'statuses': statuses,
        'scopes': scopes | sort,
    }) }}
{%- endmacro %}
