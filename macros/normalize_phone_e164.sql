{#-
    A raw phone number in E.164 (`+<calling code><number>`), or null when it cannot be one.
    The rule of docs/sources.md, which the generator's ground truth follows exactly:
    keep digits and a leading `+`; a leading `00` means `+`; a `+` number is kept as is;
    otherwise the record's country gives the calling code (seed country_calling_codes) and
    one leading trunk prefix is dropped. NANP (calling code 1): 10 digits get `+1`,
    11 digits starting with 1 get `+`, anything else is invalid. Valid only with 8-15 digits.
    `calling_code` and `trunk_prefix` are SQL expressions, usually columns of the seed.
-#}
{% macro normalize_phone_e164(phone, calling_code, trunk_prefix) -%}
    {{ return(adapter.dispatch('normalize_phone_e164', 'omniplay')(phone, calling_code, trunk_prefix)) }}
{%- endmacro %}

{% macro default__normalize_phone_e164(phone, calling_code, trunk_prefix) -%}
    {%- set digits = omniplay.phone_digits(phone) -%}
    {%- set international -%}
        case
            when {{ omniplay.regexp_replace_all('trim(' ~ phone ~ ')', "'[^0-9+]'", "''") }} like '+%' then {{ digits }}
            when {{ digits }} like '00%' then substr({{ digits }}, 3)
            when {{ calling_code }} = '1' then
                case
                    when length({{ digits }}) = 10 then '1' || {{ digits }}
                    when length({{ digits }}) = 11 and {{ digits }} like '1%' then {{ digits }}
                end
            when {{ trunk_prefix }} <> '' and {{ digits }} like {{ trunk_prefix }} || '%'
                then {{ calling_code }} || substr({{ digits }}, length({{ trunk_prefix }}) + 1)
            else {{ calling_code }} || {{ digits }}
        end
    {%- endset -%}
    case
        when length({{ international }}) between 8 and 15 then '+' || {{ international }}
    end
{%- endmacro %}
