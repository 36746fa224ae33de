"""Stand-ins for dbt's Jinja context when sqlfluff lints models/ (`.sqlfluff`: templater
jinja, library_path pointing here).

sqlfluff renders each model with plain Jinja: `ref`, `source`, `config`, `this` come from
its dbt builtins; this package adds the rest. Project macros (`omniplay.*`, `dbt.*`)
render as a call of their name (`to_utc()`, a valid SQL expression wherever a macro's
output stands), except the few whose output the template iterates over or that stand
for a type or a whole query. `var()` returns the project's real defaults from
dbt_project.yml, so loops over vars render as in a build.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(__file__).resolve().parents[3]
_VARS: dict[str, Any] = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]


def var(name: str, default: Any = None) -> Any:
    """dbt's var(): the project's default value."""
    return _VARS.get(name, default)


def _plays(include_disabled: bool = False) -> list[dict[str, Any]]:
    """omniplay.plays(): the project's real plays, with the keys the macro adds."""
    from omniplay.plays import load_plays

    plays = []
    for loaded in load_plays(PROJECT_DIR):
        raw = dict(loaded.raw)
        play = {"decision_period": "day", "destinations": {}, "windows": {}, "cost": {}, "frequency": None,
                "store_task": False, "holdout_pct": _VARS.get("omniplay__holdout_play_pct"), **raw,
                "model": loaded.model, "version": "play_version", "expires_after_minutes": 1440, "raw": raw}
        if include_disabled or play.get("enabled", True):
            plays.append(play)
    return sorted(plays, key=lambda p: (p.get("priority") or 0, p["id"]))


def _contact_caps() -> dict[str, Any]:
    """omniplay.contact_caps(): the global contact budget from the vars' defaults."""
    default = _VARS.get("omniplay__contact_caps") or {"any": {"max": 3, "days": 7}, "sms": {"max": 1, "days": 3},
                                                      "store": {"max": 1, "days": 14}}
    return {
        "default": default,
        "personas": _VARS.get("omniplay__contact_caps_by_persona") or {},
        "attribute": _VARS.get("omniplay__contact_caps_persona_attribute", "loyalty_tier"),
        "max_per_channel": _VARS.get("omniplay__max_plays_per_channel", 1),
        "statuses": _VARS.get("omniplay__ledger_counted_statuses") or ["pending", "sent", "ambiguous"],
        "scopes": sorted({(scope, cap["days"]) for scope, cap in default.items()}),
    }


class _Macros:
    """A macro namespace: `ns.name(...)` renders `name()` unless an override says otherwise."""

    def __init__(self, overrides: dict[str, Any]):
        self._overrides = overrides

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if name in self._overrides:
            return self._overrides[name]
        return lambda *args, **kwargs: f"{name}()"


def _constant(text: str):
    return lambda *args, **kwargs: text


dbt = _Macros({
    "type_string": _constant("varchar"),
    "type_timestamp": _constant("timestamp"),
    "type_int": _constant("integer"),
    "type_bigint": _constant("bigint"),
    "type_boolean": _constant("boolean"),
    "string_literal": lambda value: "'" + str(value).replace("'", "''") + "'",
})

omniplay = _Macros({
    "type_double": _constant("double"),
    "identity_identifier_types": _constant(
        ["crm_id", "loyalty_id", "user_id", "email", "phone", "card_token", "badge_id", "device_id", "cookie_id"]),
    "plays": _plays,
    "contact_caps": _contact_caps,
    "guardrail_config": _constant(_VARS.get("omniplay__guardrails")),
    "materialized_cte": _constant(""),  # `name as materialized (` on engines that have it
    "inline_cte": _constant(""),  # `name as not materialized (` on engines that have it
    "holdout_scopes": _constant([{"scope": "global", "holdout_pct": _VARS.get("omniplay__holdout_global_pct")}]),
    # Macros that stand for a whole query (the Segment-spec staging models are one call each).
    "segment_spec_staging": _constant("select 1 as segment_spec_staging"),
    "journey_changed_profiles": _constant("select profile_id from journey_changed_profiles"),
    "trigger_audience": _constant("select profile_id from trigger_audience"),
    "previous_build_relation": _constant("fct_play_exposures"),  # a relation, or none before the first build
})

adapter = _Macros({
    "quote": lambda name: f'"{name}"',
    "get_relation": _constant(None),
    "get_columns_in_relation": _constant([]),
})

execute = False
