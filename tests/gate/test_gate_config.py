"""Gate configuration and rules that need no warehouse build: size band, per-play YAML, address shapes."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from activation.addresses import InvalidAddress, check_address
from activation.gate import blocked_plays
from activation.gate_checks import E164_REGEX, EMAIL_REGEX, PlayGateConfig, SizeRule, play_gate_configs
from omniplay.errors import ConfigError
from omniplay.warehouse import DuckDBWarehouse
from tests.support.dbt import PROJECT_DIR


def test_size_rule_band_and_floor():
    rule = SizeRule(band=0.5, min_rows=50)
    assert rule.bounds(100) == (50, 150)
    assert rule.bounds(7) == (3, 11)  # rounded outwards: never stricter than the band
    assert rule.applies(100, 10) and rule.applies(10, 60)
    assert not rule.applies(49, 20)
    assert SizeRule(band=2.0).bounds(10) == (0, 30)


def _project(tmp_path: Path, gate_yaml: str) -> Path:
    """A project holding one copy of a real audience with `gate_yaml` under its config.meta."""
    folder = tmp_path / "models" / "audiences"
    folder.mkdir(parents=True)
    source = PROJECT_DIR / "models" / "audiences" / "aud_cart_abandoners.yml"
    text = source.read_text(encoding="utf-8").replace("      meta:\n", f"      meta:\n{gate_yaml}", 1)
    (folder / source.name).write_text(text, encoding="utf-8")
    shutil.copyfile(source.with_suffix(".sql"), folder / "aud_cart_abandoners.sql")
    return tmp_path


def test_per_play_gate_config_from_the_audience_yaml(tmp_path: Path):
    project = _project(tmp_path, "        gate:\n          size_band: 0.2\n          size_min_rows: 10\n")
    assert play_gate_configs(project) == {"cart_abandoners": PlayGateConfig(size_band=0.2, size_min_rows=10)}


def test_real_plays_have_valid_gate_config():
    configs = play_gate_configs(PROJECT_DIR)
    assert all(isinstance(c, PlayGateConfig) for c in configs.values())


@pytest.mark.parametrize(("yaml_text", "field"), [
    ("        gate:\n          size_band: -1\n", "gate.size_band"),
    ("        gate:\n          size_bnad: 0.2\n", "gate.size_bnad"),
    ("        gate: 0.5\n", "gate"),
])
def test_bad_gate_config_names_file_play_and_field(tmp_path: Path, yaml_text: str, field: str):
    project = _project(tmp_path, yaml_text)
    with pytest.raises(ConfigError) as caught:
        play_gate_configs(project)
    message = str(caught.value)
    assert message.startswith("models/audiences/aud_cart_abandoners.yml: play 'cart_abandoners': ")
    assert f": {field}:" in message
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(("channel", "address"), [
    ("email", "ana.lopez+news@mail.example.es"), ("email", "jørgensen.h@gmx.de"), ("email", "a@b"),
    ("email", "a..b@example.com"), ("email", "someone(at)example.com"), ("email", "x y@example.com"),
    ("sms", "+447700900123"), ("sms", "+15551234567"), ("sms", "07700900123"), ("sms", "+0123456789"),
    ("sms", "+44 7700 900123"),
])
def test_gate_address_shapes_never_pass_what_the_engine_rejects(channel: str, address: str):
    gate_ok = re.search(EMAIL_REGEX if channel == "email" else E164_REGEX, address) is not None
    try:
        check_address(channel, address)
        engine_ok = True
    except InvalidAddress:
        engine_ok = False
    assert not (gate_ok and not engine_ok), f"the gate passes {address!r} that the engine rejects"
    if engine_ok:
        assert gate_ok, f"the gate would block {address!r} that the engine delivers"


def test_blocked_plays_without_a_gate_run_is_empty(tmp_path: Path):
    with DuckDBWarehouse.open(str(tmp_path / "empty.duckdb")) as wh:
        assert blocked_plays(wh) == {}
