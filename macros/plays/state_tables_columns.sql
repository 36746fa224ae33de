{#- The activation state tables' columns, (name, portable type) in order: `sends` (the send
    ledger), `runs` (run log), `opt_outs` and `play_resumes`; the same as activation/ledger.py
    TABLES. Read by every engine's state_tables_ddl. -#}
{% macro state_tables_columns() -%}
    {{ return({
        'sends': [
            ('message_id', 'varchar(128) not null primary key'),
            ('status', 'varchar(16) not null'),
            ('attempts', 'integer not null'),
            ('provider_message_id', 'varchar(256)'),
            ('error_code', 'varchar(64)'),
            ('error_message', 'varchar(1024)'),
            ('first_attempt_at', 'timestamp'),
            ('finished_at', 'timestamp'),
            ('run_id', 'varchar(64) not null'),
            ('play_id', 'varchar(128)'),
            ('profile_id', 'varchar(128)'),
            ('channel', 'varchar(16)'),
            ('destination', 'varchar(128)'),
            ('batch_id', 'varchar(64)'),
            ('updated_at', 'timestamp not null'),
        ],
        'runs': [
            ('run_id', 'varchar(64) not null'),
            ('play_id', 'varchar(128) not null'),
            ('started_at', 'timestamp not null'),
            ('finished_at', 'timestamp'),
            ('outcome', 'varchar(16) not null'),
            ('planned', 'integer not null'),
            ('sent', 'integer not null'),
            ('rejected', 'integer not null'),
            ('failed', 'integer not null'),
            ('ambiguous', 'integer not null'),
            ('deferred', 'integer not null'),
            ('expired', 'integer not null'),
            ('error_message', 'varchar(1024)'),
        ],
        'opt_outs': [
            ('opt_out_id', 'varchar(128) not null primary key'),
            ('identifier_type', 'varchar(16) not null'),
            ('identifier_value', 'varchar(256) not null'),
            ('channel', 'varchar(16) not null'),
            ('action', 'varchar(32) not null'),
            ('source', 'varchar(32) not null'),
            ('profile_id', 'varchar(128)'),
            ('message_id', 'varchar(128)'),
            ('occurred_at', 'timestamp not null'),
        ],
        'play_resumes': [
            ('resume_id', 'varchar(64) not null primary key'),
            ('play_id', 'varchar(128) not null'),
            ('resumed_at', 'timestamp not null'),
            ('resumed_by', 'varchar(128)'),
            ('note', 'varchar(1024)'),
        ],
    }) }}
{%- endmacro %}
