"""A project copy with two broad test plays whose effects the response simulation plants.

`planted_uplift` and `planted_harm` each reach half of the profiles with an e-mail
address (split by a hash, so they never compete), with 50% holdouts for power. The
generator's response simulation then gives planted_uplift's treatment arm a known
conversion uplift and makes planted_harm's treated profiles unsubscribe.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from omniplay.plays import sync_project
from tests.decisions.test_play_config import copy_project

PLAYS = {
    # planted_uplift contacts a profile at most once a month: the run after a delivered one
    # caps its treated profiles, and must cap their held-out twins alike (no false SRM).
    "planted_uplift": {"bucket": 0, "priority": 1, "frequency": {"max": 1, "days": 30}},
    "planted_harm": {"bucket": 1, "priority": 2},
}
WINDOW_DAYS = 7

AUDIENCE_SQL = """\
{{{{ config(materialized='table') }}}}
{{#- Test play: half of the profiles with an e-mail address (tests/measurement). -#}}
with

profiles as (

    select * from {{{{ ref('dim_profiles') }}}}

),

final as (

    select profile_id, first_name

    from profiles
    where best_email is not null
        and {{{{ omniplay.hash_bucket("'planted:' || profile_id", 2) }}}} = {bucket}

)

select * from final
"""

def planted_project(out: Path) -> Path:
    """Copy the project to `out` and add the two planted plays, wired by `plays sync`."""
    project = copy_project(out, whole=True)
    audiences = project / "models" / "audiences"
    templates = project / "activation" / "templates"
    default_template = (templates / "default.yml").read_text()
    for play_id, spec in PLAYS.items():
        (audiences / f"aud_{play_id}.sql").write_text(AUDIENCE_SQL.format(bucket=spec["bucket"]))
        play = {
            "id": play_id, "description": f"Test play {play_id}", "owner": "tests", "channels": ["email"],
            "template": play_id, "schedule": {"cron": "0 9 * * *", "timezone": "UTC"},
            "priority": spec["priority"], "holdout_pct": 50, "expires_after": "48h",
            "conversion": {"event_types": ["purchase"], "window_days": WINDOW_DAYS}, "cost": {"email": 0.01},
            **({"frequency": spec["frequency"]} if "frequency" in spec else {}),
        }
        document = {"version": 2, "models": [{
            "name": f"aud_{play_id}", "config": {"meta": {"play": play}},
            "columns": [{"name": "profile_id", "data_tests": ["unique", "not_null"]}],
        }]}
        (audiences / f"aud_{play_id}.yml").write_text(yaml.safe_dump(document, sort_keys=False))
        (templates / f"{play_id}.yml").write_text(default_template)
    sync_project(project)
    return project
