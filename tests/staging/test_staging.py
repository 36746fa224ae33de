"""The staging layer on real generated data: normalization agrees with the generator's
ground truth and with independent references (libphonenumber, zoneinfo), junk never
survives, duplicates collapse, and a missing source file fails the build by name."""

from __future__ import annotations

import csv
import os
import re
from collections import defaultdict
from datetime import UTC
from pathlib import Path
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from tests.support.dbt import PROJECT_DIR, BuildRun, DbtProject

ENGINES = [pytest.param("duckdb_build", id="duckdb"),
           pytest.param("postgres_build", id="postgres", marks=pytest.mark.postgres)]

# Every staged identifier column, by the identifier type it feeds (docs/sources.md).
IDENTIFIER_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "email": [("stg_crm__customers", "email"), ("stg_loyalty__members", "email"), ("stg_web__accounts", "email"),
              ("stg_email__events", "email"), ("stg_events__badge_scans", "email")],
    "phone": [("stg_crm__customers", "phone"), ("stg_loyalty__members", "phone"), ("stg_web__accounts", "phone"),
              ("stg_sms__events", "phone"), ("stg_events__badge_scans", "phone")],
    "crm_id": [("stg_crm__customers", "crm_id"), ("stg_loyalty__members", "crm_id"), ("stg_web__accounts", "crm_id")],
    "loyalty_id": [("stg_loyalty__members", "loyalty_id"), ("stg_pos__transactions", "loyalty_id")],
    "cookie_id": [("stg_web__events", "cookie_id")],
    "device_id": [("stg_web__events", "device_id")],
    "user_id": [("stg_web__accounts", "user_id"), ("stg_web__events", "user_id")],
    "card_token": [("stg_pos__transactions", "card_token")],
    "badge_id": [("stg_events__badge_scans", "badge_id")],
}
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@pytest.fixture(params=ENGINES)
def build(request: pytest.FixtureRequest) -> BuildRun:
    """The session's build on each engine: the staging SQL is shared, so the same checks hold."""
    return request.getfixturevalue(request.param)


def _truth(source_data: Path) -> dict[str, set[str]]:
    table = pq.read_table(source_data / "truth" / "identity.parquet", columns=["identifier_type", "identifier_value"])
    truth: dict[str, set[str]] = defaultdict(set)
    for kind, value in zip(table["identifier_type"].to_pylist(), table["identifier_value"].to_pylist()):
        truth[kind].add(value)
    return truth


def _values(build: BuildRun, model: str, column: str) -> set[str]:
    return {row[0] for row in build.project.query(f'select distinct "{column}" from staging.{model} where "{column}" is not null')}


def _raw(source_data: Path, source: str, entity: str, columns: list[str]) -> list[dict]:
    path = source_data / source / entity
    path = path if path.is_dir() else path.with_suffix(".parquet")
    return ds.dataset(path, format="parquet").to_table(columns=columns).to_pylist()


def test_every_staged_identifier_is_a_true_one(build: BuildRun, source_data: Path) -> None:
    """Normalized values agree exactly with the generator's truth, so junk and mis-normalized values never survive."""
    truth = _truth(source_data)
    problems = []
    for kind, columns in IDENTIFIER_COLUMNS.items():
        assert truth[kind], f"the ground truth has no {kind} identifiers"
        for model, column in columns:
            stray = _values(build, model, column) - truth[kind]
            if stray:
                problems.append(f"{model}.{column}: {len(stray)} values not in the truth, e.g. {sorted(stray)[:3]}")
    assert not problems, "\n".join(problems)


def test_every_true_identifier_is_staged(build: BuildRun, source_data: Path) -> None:
    """Each identifier of the ground truth comes out of some staging model, normalized the same way."""
    truth = _truth(source_data)
    problems = []
    for kind, columns in IDENTIFIER_COLUMNS.items():
        staged = set().union(*(_values(build, model, column) for model, column in columns))
        missing = truth[kind] - staged
        if missing:
            problems.append(f"{kind}: {len(missing)} of {len(truth[kind])} true values never staged, "
                            f"e.g. {sorted(missing)[:3]}")
    assert not problems, "\n".join(problems)


def test_consent_identifiers_match_the_identity_truth(build: BuildRun, source_data: Path) -> None:
    truth = _truth(source_data)
    rows = build.project.query(
        "select identifier_type, identifier_value from staging.stg_consent__consent_log where identifier_value is not null")
    assert rows, "no consent row has a usable identifier"
    stray = [(kind, value) for kind, value in rows if value not in truth[kind]]
    assert not stray, f"{len(stray)} consent identifiers not in the truth, e.g. {stray[:3]}"


def _is_junk(value: str | None, identifier_type: str) -> bool:
    """Python reference of macros/is_blocklisted.sql over the seed's CSV file."""
    if value is None:
        return False
    with open(PROJECT_DIR / "seeds" / "identifier_blocklist.csv", newline="", encoding="utf-8") as handle:
        entries = [row for row in csv.DictReader(handle) if row["identifier_type"] in ("any", identifier_type)]
    value = value.lower()
    if value == "null" or value in {row["value"] for row in entries if row["match_type"] == "exact"}:
        return True
    if identifier_type == "email":
        return value.split("@")[0] in {row["value"] for row in entries if row["match_type"] == "local_part"}
    if identifier_type == "phone":
        return (value != "" and len(set(value)) == 1) or value.endswith("0000000")
    return False


def test_emails_match_a_python_reference(duckdb_build: BuildRun) -> None:
    rows = duckdb_build.project.query(
        "select email_raw, email, is_valid_email from staging.stg_crm__customers "
        "union all select email_raw, email, is_valid_email from staging.stg_email__events")
    problems = []
    for raw, email, valid in rows:
        expected = None if raw is None else raw.strip(" ").lower() or None
        if _is_junk(expected, "email"):
            expected = None
        if email != expected or valid != bool(expected and EMAIL_PATTERN.match(expected)):
            problems.append((raw, email, valid))
    assert rows and not problems, f"{len(problems)} emails differ, e.g. {problems[:3]}"


def test_phones_agree_with_libphonenumber(duckdb_build: BuildRun) -> None:
    """Staged phones are what libphonenumber makes of the raw number in the record's country
    (a leading 00 read as +, as docs/sources.md says), and null for junk placeholders."""
    rows = duckdb_build.project.query("select phone_raw, phone, country from staging.stg_crm__customers "
                                      "where phone_raw is not null")
    valid, problems = 0, []
    for raw, phone, country in rows:
        digits = re.sub(r"[^0-9]", "", raw)
        expected = None
        if not _is_junk(digits, "phone"):
            international = re.sub(r"[^0-9+]", "", raw.strip()).startswith("+") or digits.startswith("00")
            try:
                parsed = phonenumbers.parse("+" + digits.removeprefix("00") if international else raw, country)
            except phonenumbers.NumberParseException:
                parsed = None
            if parsed is not None and phonenumbers.is_valid_number(parsed):
                valid += 1
                expected = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        if phone != expected:
            problems.append((raw, country, phone, expected))
    assert valid > len(rows) / 2, f"only {valid} of {len(rows)} raw phones are valid numbers"
    assert not problems, f"{len(problems)} phones differ (raw, country, staged, expected), e.g. {problems[:3]}"


def test_pos_times_are_store_local_times_in_utc(build: BuildRun) -> None:
    rows = build.project.query(
        "select occurred_at_local, store_timezone, occurred_at from staging.stg_pos__transactions")
    assert rows
    problems = []
    for local, zone, utc in rows:
        tz = ZoneInfo(zone)
        # At DST changes: a repeated wall-clock time is standard time (fold=1), a skipped
        # one takes the offset before the change (fold=0), as in macros/to_utc_from_local.sql.
        first, second = local.replace(tzinfo=tz), local.replace(tzinfo=tz, fold=1)
        repeated = first.utcoffset() > second.utcoffset()
        aware = second if repeated else first
        if aware.astimezone(UTC).replace(tzinfo=None) != utc:
            problems.append((local, zone, utc))
    assert not problems, f"{len(problems)} transactions converted wrongly, e.g. {problems[:3]}"


def test_duplicates_collapse_to_one_row_per_key(duckdb_build: BuildRun, source_data: Path) -> None:
    for model, source, entity, key in [("stg_crm__customers", "crm", "customers", "crm_id"),
                                       ("stg_web__events", "web", "events", "event_id")]:
        raw = _raw(source_data, source, entity, [key])
        raw_keys = [r[key] for r in raw]
        assert len(set(raw_keys)) < len(raw_keys), f"the generator planted no duplicate {source}.{entity} rows"
        staged = duckdb_build.project.scalar(f"select count(*) from staging.{model}")
        assert staged == len({k.strip().upper() if key == "crm_id" else k.strip() for k in raw_keys if k}), model


def test_timestamps_are_utc_without_time_zone(build: BuildRun) -> None:
    rows = [row for row in build.project.query(
        "select table_name, column_name, data_type from information_schema.columns where table_schema = 'staging'")
        if row[0].startswith("stg_") and row[1].endswith("_at")]
    assert len({row[0] for row in rows}) >= 10, rows
    wrong = [r for r in rows if r[2].lower() not in ("timestamp", "timestamp without time zone")]
    assert not wrong, f"staged _at columns must be UTC timestamps without time zone: {wrong}"


def test_normalization_has_unit_tests(duckdb_build: BuildRun) -> None:
    unit_tests = duckdb_build.manifest["unit_tests"]
    statuses = duckdb_build.statuses()
    names = {node["name"] for node in unit_tests.values() if node["model"] == "stg_crm__customers"}
    assert {"stg_crm__customers_normalizes_emails", "stg_crm__customers_normalizes_phones_to_e164"} <= names
    ran = {uid: statuses.get(uid) for uid in unit_tests if uid.startswith("unit_test.omniplay.stg_")}
    assert ran and all(status == "pass" for status in ran.values()), ran


def test_missing_source_file_fails_naming_the_source(source_data: Path, tmp_path: Path) -> None:
    """A plain `dbt build` (no omniplay loader in front) stops in on-run-start with the source's name."""
    data = tmp_path / "data"
    for entry in source_data.iterdir():
        if entry.is_dir():
            (data / entry.name).mkdir(parents=True)
            for item in entry.iterdir():
                if not (entry.name == "crm" and item.name.startswith("customers")):
                    os.symlink(item, data / entry.name / item.name)
    project = DbtProject.isolated(tmp_path / "dbt", target="duckdb", data_dir=data)
    result = project.run("build", select=["stg_stores__stores"], raise_on_failure=False)
    assert not result.success
    log = (tmp_path / "dbt" / "logs" / "dbt.log").read_text(encoding="utf-8")
    assert "Source crm.customers: no file at " in log
    assert "Run `omniplay generate` or set OMNIPLAY_DATA_DIR." in log


def test_seed_values_survive_every_seed_loader() -> None:
    """dbt's generic seed loader (PostgreSQL) reads the words `null` and `` as SQL NULL,
    dbt-duckdb's does not: a seed value like that would differ between engines."""
    problems = []
    for path in sorted((PROJECT_DIR / "seeds").glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            for line, row in enumerate(csv.DictReader(handle), start=2):
                problems += [f"{path.name}:{line} {column}" for column, value in row.items()
                             if value.strip().lower() == "null"]
    assert not problems, problems
