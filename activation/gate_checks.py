"""What the quality gate checks: its configuration, the SQL that gathers the facts, the expectations.

The facts a row is judged on come from the source tables, never from the decision model:
holdout membership from `dim_holdout_assignments`, channel consent from
`dim_profile_consent`, profile-wide blocks from the consent log (GDPR objection,
do-not-contact on any identifier of the profile) and the CRM do-not-contact flag, store
ids from the stores staging model. One SQL statement joins them to every queue row
(:func:`gate_rows_sql`) so the warehouse does the cross-table work; Great Expectations
then validates the annotated rows per play (:func:`row_expectations`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from omniplay.errors import ConfigError
from omniplay.warehouse import quote_ident

# Check names, in the order reasons are reported.
CHECKS = ("coverage", "unique_message_id", "address", "holdout", "consent", "blocked_profile", "window", "size")

# Shapes the engine's own address guard accepts (activation/addresses.py), as regular
# expressions both Python and PostgreSQL understand.
EMAIL_REGEX = (
    r"^[^\s@\"(),:;<>\[\]\\.]+(?:\.[^\s@\"(),:;<>\[\]\\.]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
E164_REGEX = r"^\+[1-9][0-9]{7,14}$"
CHANNELS = ("email", "sms", "store")

DEFAULT_SIZE_BAND = 0.5
DEFAULT_SIZE_MIN_ROWS = 50


class PlayGateConfig(BaseModel):
    """Per-play gate settings, under `config: meta: gate:` beside the play in the audience YAML."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    size_band: float | None = Field(default=None, ge=0, le=100)
    size_min_rows: int | None = Field(default=None, ge=0)


@dataclass(frozen=True)
class SizeRule:
    """The circuit breaker: today's rows within ±band of the previous passed run's rows.

    Below `min_rows` on both sides the change is noise and the check passes with a note.
    """

    band: float = DEFAULT_SIZE_BAND
    min_rows: int = DEFAULT_SIZE_MIN_ROWS

    def bounds(self, previous: int) -> tuple[int, int]:
        return max(0, math.floor(previous * (1 - self.band))), math.ceil(previous * (1 + self.band))

    def applies(self, previous: int, current: int) -> bool:
        return max(previous, current) >= self.min_rows


@dataclass(frozen=True)
class GateSources:
    """Where the queue, the source tables and the state schema are (dbt_project.yml schemas)."""

    queue: str = "activation.activation_queue"
    holdouts: str = "marts.dim_holdout_assignments"
    consent: str = "marts.dim_profile_consent"
    identity_map: str = "marts.dim_identity_map"
    profiles: str = "marts.dim_profiles"
    consent_log: str = "staging.stg_consent__consent_log"
    crm_customers: str = "staging.stg_crm__customers"
    stores: str = "staging.stg_stores__stores"
    state_schema: str = "omniplay_state"

    def relation(self, name: str) -> str:
        return ".".join(quote_ident(part) for part in getattr(self, name).split("."))

    def split(self, name: str) -> tuple[str, str]:
        schema, table = getattr(self, name).split(".")
        return schema, table


def play_gate_configs(project_dir: Path) -> dict[str, PlayGateConfig]:
    """`config: meta: gate:` of every play, by play id (plays without one are left out).

    Raises:
        ConfigError: ``<file>: play '<id>': gate.<field>: <problem>``.
    """
    from omniplay.plays import load_plays

    out: dict[str, PlayGateConfig] = {}
    for loaded in load_plays(project_dir, check_templates=False):
        document = yaml.safe_load(loaded.yml_path.read_text(encoding="utf-8")) or {}
        for model in document.get("models") or []:
            if not isinstance(model, Mapping) or model.get("name") != loaded.model:
                continue
            meta = (model.get("config") or {}).get("meta") or {}
            raw = meta.get("gate") if isinstance(meta, Mapping) else None
            if raw is None:
                continue
            label = f"{_shown(loaded.yml_path, project_dir)}: play '{loaded.id}'"
            if not isinstance(raw, Mapping):
                raise ConfigError(f"{label}: gate: must be a mapping (size_band, size_min_rows)")
            try:
                out[loaded.id] = PlayGateConfig.model_validate(dict(raw))
            except ValidationError as exc:
                first = exc.errors()[0]
                field = ".".join(str(p) for p in first["loc"]) or "gate"
                raise ConfigError(f"{label}: gate.{field}: {first['msg']}") from None
    return out


def _shown(path: Path, project_dir: Path) -> str:
    try:
        return str(path.relative_to(project_dir))
    except ValueError:
        return str(path)


def gate_rows_sql(src: GateSources, plays: list[str] | None) -> tuple[str, list[Any]]:
    """Every queue row (of `plays`, or all) with the source facts it is judged on.

    Columns: play_id, message_id, channel, address, not_before, not_after,
    message_id_occurrences (over the whole queue), holdout_scope (the holdout the profile
    is in for this play, else null), consent_reason (why the channel is not allowed, else
    null) and block_reason (gdpr_objection / do_not_contact, else null). The gate stores
    them in a work table and reads each play back with :data:`READ_COLUMNS`.

    The dimensions are joined on their keys (profile_id + scope, profile_id + channel), unique
    by their dbt tests; were one duplicated, a queue row would repeat here, never disappear.
    """
    where, params = "", []
    if plays:
        where = f"where play_id in ({', '.join('?' * len(plays))})"
        params = list(plays)
    sql = f"""
with queue as (
    select play_id, message_id, profile_id, channel, address, not_before, not_after
    from {src.relation('queue')}
    {where}
),
occurrences as (
    select message_id, count(*) as occurrences
    from {src.relation('queue')}
    group by message_id
    having count(*) > 1
),
global_holdouts as (
    select profile_id, scope
    from {src.relation('holdouts')}
    where arm = 'holdout' and scope = 'global'
),
play_holdouts as (
    select profile_id, scope
    from {src.relation('holdouts')}
    where arm = 'holdout' and scope <> 'global'
),
consent as (
    select profile_id, channel, is_allowed, reason
    from {src.relation('consent')}
),
blocks as (
    select identity_map.profile_id, consent_log.action as reason
    from {src.relation('consent_log')} as consent_log
    inner join {src.relation('identity_map')} as identity_map
        on consent_log.identifier_type = identity_map.identifier_type
        and consent_log.identifier_value = identity_map.identifier_value
    where consent_log.action in ('gdpr_objection', 'do_not_contact')
    union all
    select identity_map.profile_id, 'do_not_contact' as reason
    from {src.relation('crm_customers')} as crm_customers
    inner join {src.relation('identity_map')} as identity_map
        on identity_map.identifier_type = 'crm_id'
        and identity_map.identifier_value = crm_customers.crm_id
    where crm_customers.do_not_contact
    union all
    select profile_id, 'do_not_contact' as reason
    from {src.relation('profiles')}
    where do_not_contact
),
profile_blocks as (
    -- gdpr_objection sorts after do_not_contact: max() reports the objection
    select profile_id, max(reason) as reason
    from blocks
    group by profile_id
),
final as (
    select
        queue.play_id,
        queue.message_id,
        queue.channel,
        queue.address,
        queue.not_before,
        queue.not_after,
        coalesce(occurrences.occurrences, 1) as message_id_occurrences,
        coalesce(global_holdouts.scope, play_holdouts.scope) as holdout_scope,
        case
            when consent.profile_id is null then 'no_consent_row'
            when not coalesce(consent.is_allowed, false) then coalesce(consent.reason, 'not_allowed')
        end as consent_reason,
        profile_blocks.reason as block_reason
    from queue
    left join occurrences
        on queue.message_id = occurrences.message_id
    left join global_holdouts
        on queue.profile_id = global_holdouts.profile_id
    left join play_holdouts
        on queue.profile_id = play_holdouts.profile_id
        and queue.play_id = play_holdouts.scope
    left join consent
        on queue.profile_id = consent.profile_id
        and queue.channel = consent.channel
    left join profile_blocks
        on queue.profile_id = profile_blocks.profile_id
)
select * from final
"""
    return sql, params


# What Great Expectations sees of each play's rows: the work table's columns plus the
# address split by channel, so each channel's address rule is one column expectation.
READ_COLUMNS = (
    "message_id, message_id_occurrences, channel, address, "
    "case when channel = 'email' then address end as email_address, "
    "case when channel = 'sms' then address end as sms_address, "
    "case when channel = 'store' then address end as store_address, "
    "holdout_scope, consent_reason, block_reason, not_before, not_after"
)


def physical_stores_sql(src: GateSources) -> str:
    """Store ids a store task may go to: known stores that are not the online store."""
    return (f"select store_id from {src.relation('stores')} "
            f"where store_id is not null and not coalesce(is_online, false)")


@dataclass(frozen=True)
class RowExpectation:
    """One Great Expectations expectation over the annotated rows and the check it belongs to."""

    check: str
    kind: str  # the GX expectation class name
    kwargs: dict[str, Any]
    what: str  # how a failing row reads, after its count: "3 row(s) <what>"
    show_values: bool = False  # unexpected values are codes (no PII): list them in the reason


def row_expectations(store_ids: list[str]) -> list[RowExpectation]:
    """The per-row checks, in report order."""
    return [
        RowExpectation("unique_message_id", "ExpectColumnValuesToNotBeNull", {"column": "message_id"},
                       "have no message_id"),
        RowExpectation("unique_message_id", "ExpectColumnValuesToBeBetween",
                       {"column": "message_id_occurrences", "min_value": 1, "max_value": 1},
                       "share their message_id with another queue row"),
        RowExpectation("address", "ExpectColumnValuesToBeInSet", {"column": "channel", "value_set": list(CHANNELS)},
                       "have an unknown channel", show_values=True),
        RowExpectation("address", "ExpectColumnValuesToNotBeNull", {"column": "address"}, "have no address"),
        RowExpectation("address", "ExpectColumnValuesToMatchRegex", {"column": "email_address", "regex": EMAIL_REGEX},
                       "have a malformed email address"),
        RowExpectation("address", "ExpectColumnValuesToMatchRegex", {"column": "sms_address", "regex": E164_REGEX},
                       "have an SMS number that is not E.164"),
        RowExpectation("address", "ExpectColumnValuesToBeInSet", {"column": "store_address", "value_set": store_ids},
                       "name a store id that is not a known physical store", show_values=True),
        RowExpectation("holdout", "ExpectColumnValuesToBeNull", {"column": "holdout_scope"},
                       "are for holdout members", show_values=True),
        RowExpectation("consent", "ExpectColumnValuesToBeNull", {"column": "consent_reason"},
                       "are on a channel without consent", show_values=True),
        RowExpectation("blocked_profile", "ExpectColumnValuesToBeNull", {"column": "block_reason"},
                       "are for blocked profiles", show_values=True),
        RowExpectation("window", "ExpectColumnValuesToNotBeNull", {"column": "not_before"}, "have no not_before"),
        RowExpectation("window", "ExpectColumnValuesToNotBeNull", {"column": "not_after"}, "have no not_after"),
        RowExpectation("window", "ExpectColumnPairValuesAToBeGreaterThanB",
                       {"column_A": "not_after", "column_B": "not_before", "or_equal": False,
                        "ignore_row_if": "either_value_is_missing"},
                       "have not_before at or after not_after"),
    ]
