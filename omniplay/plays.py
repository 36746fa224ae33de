"""Plays: the activation config that sits next to each audience model.

An audience is `models/audiences/aud_<name>.sql` (one row per profile_id, optional
personalization columns); its play is the model's `config: meta: play:` in the YAML file
beside it. :func:`load_plays` reads every YAML file under `models/audiences/`, validates
each play and raises :class:`~omniplay.errors.ConfigError` as
``<file>: play '<id>': <field>: <problem>``. The dbt side (macros/plays/) reads the same
config from dbt's `graph` and repeats the basic checks on `on-run-start`; this module is
the full check (cron and IANA zone, the template file and its channel variants).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from omniplay.errors import ConfigError
from omniplay.schedule import Schedule, ScheduleError

__all__ = [
    "CHANNELS",
    "LoadedPlay",
    "Play",
    "load_plays",
    "parse_duration",
    "play_version",
    "template_digests",
    "templates_dir",
]

CHANNELS = ("email", "sms", "store")
AUDIENCES_DIR = Path("models") / "audiences"
DEFAULT_TEMPLATES_DIR = Path("activation") / "templates"

_ID = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_DURATION = re.compile(r"^\s*(\d+)\s*(m|h|d)\s*$")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_DURATION_UNITS = {"m": "minutes", "h": "hours", "d": "days"}

Channel = Literal["email", "sms", "store"]


def parse_duration(value: str | int) -> timedelta:
    """'90m', '48h', '3d' (or a number of hours) as a timedelta; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as '48h', '3d' or '90m'")
    if isinstance(value, int):
        hours = value
        if hours <= 0:
            raise ValueError("must be positive")
        return timedelta(hours=hours)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration; use e.g. '48h', '3d' or '90m'")
    amount = int(match.group(1))
    if amount <= 0:
        raise ValueError("must be positive")
    return timedelta(**{_DURATION_UNITS[match.group(2)]: amount})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Frequency(_Strict):
    """Per-play cap: at most `max` messages of this play per profile within `days`."""

    max: int = Field(ge=1)
    days: int = Field(ge=1, le=366)


class Conversion(_Strict):
    """What counts as a conversion and the attribution window after the decision (docs/measurement.md)."""

    event_types: list[str] = Field(min_length=1)
    window_days: int = Field(ge=1, le=366)


class Window(_Strict):
    """A daily local wall-clock window 'HH:MM'-'HH:MM' (start before end, same day)."""

    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not isinstance(value, str) or not _CLOCK.match(value):
            raise ValueError(f"{value!r} is not a time of day 'HH:MM' (00:00-23:59)")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.start >= self.end:
            raise ValueError(f"start {self.start} must be before end {self.end} (windows do not span midnight)")
        return self


class Intent(_Strict):
    """Channel order by intent: `channel` goes first when purchase_propensity >= `min_propensity`, last otherwise."""

    channel: Channel
    min_propensity: float = Field(ge=0, le=1)


class Play(_Strict):
    """One play, as written under `config: meta: play:` (DESIGN.md, play configuration)."""

    id: str
    description: str = ""
    owner: str
    enabled: bool = True
    channels: list[Channel] = Field(min_length=1)
    store_task: bool = False
    intent: Intent | None = None
    template: str
    schedule: Schedule
    priority: int = Field(ge=0)
    holdout_pct: float | None = Field(default=None, ge=0, le=100)
    frequency: Frequency | None = None
    expires_after: timedelta = timedelta(hours=24)
    decision_period: Literal["hour", "day", "week"] = "day"
    conversion: Conversion | None = None
    cost: dict[Channel, float] | None = None
    windows: dict[Channel, Window] = Field(default_factory=dict)
    destinations: dict[Channel, str] = Field(default_factory=dict)

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not isinstance(value, str) or not _ID.match(value):
            raise ValueError("must be lowercase letters, digits and underscores, starting with a letter (max 63)")
        return value

    @field_validator("template")
    @classmethod
    def _template_name(cls, value: str) -> str:
        if not value or "/" in value or "\\" in value or value.startswith("."):
            raise ValueError(f"{value!r} is not a template name (the file name under activation/templates without .yml)")
        return value

    @field_validator("channels")
    @classmethod
    def _unique_channels(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError(f"lists a channel twice: {value}")
        return value

    @field_validator("schedule", mode="before")
    @classmethod
    def _schedule(cls, value: Any) -> Schedule:
        if isinstance(value, Schedule):
            return value
        try:
            return Schedule.from_mapping(value, where="schedule")
        except ScheduleError as exc:
            # Drop the generic 'schedule' prefix: the loader prefixes the field path.
            raise ValueError(str(exc).removeprefix("schedule")) from None

    @field_validator("expires_after", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> timedelta:
        return value if isinstance(value, timedelta) else parse_duration(value)

    @field_validator("cost")
    @classmethod
    def _costs(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        for channel, amount in (value or {}).items():
            if amount < 0:
                raise ValueError(f"{channel}: a cost cannot be negative")
        return value

    @property
    def attribution_days(self) -> int:
        """Days after the decision its outcomes count for (conversion.window_days)."""
        assert self.conversion is not None  # required by _measurement
        return self.conversion.window_days

    @model_validator(mode="after")
    def _cross_checks(self) -> Play:
        if self.store_task and "store" in self.channels:
            raise ValueError("store_task: adds a store task beside the customer message; do not also list store in channels")
        if self.intent is not None and self.intent.channel not in self.channels:
            raise ValueError(f"intent.channel: {self.intent.channel!r} is not one of the play's channels {self.channels}")
        return self._measurement()

    def _measurement(self) -> Play:
        """Lift needs an attribution window and a price for every channel the play can use."""
        if self.conversion is None:
            raise ValueError("conversion: is required for lift measurement - what counts as a conversion and the "
                             "attribution window after the decision, e.g. {event_types: [purchase], window_days: 7}")
        used = [*self.channels, *(["store"] if self.store_task else [])]
        if self.cost is None:
            raise ValueError("cost: is required for cost per incremental acquisition - the cost of one message per "
                             f"channel, e.g. {{{', '.join(f'{c}: 0.01' for c in used)}}}")
        missing = [c for c in used if c not in self.cost]
        if missing:
            raise ValueError(f"cost: has no price for {', '.join(missing)} (the play can use {', '.join(used)})")
        return self


@dataclass(frozen=True)
class LoadedPlay:
    """A validated play with where it came from and its raw config (for hashing)."""

    play: Play
    model: str
    yml_path: Path
    sql_path: Path
    raw: dict[str, Any]

    @property
    def id(self) -> str:
        return self.play.id


def templates_dir(project_dir: Path) -> Path:
    """The templates folder the activation engine reads (`templates_dir` in activation/destinations.yml)."""
    config = project_dir / "activation" / "destinations.yml"
    if config.is_file():
        try:
            raw = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError:
            raw = {}
        configured = raw.get("templates_dir") if isinstance(raw, Mapping) else None
        if isinstance(configured, str) and configured:
            path = Path(configured)
            return path if path.is_absolute() else project_dir / path
    return project_dir / DEFAULT_TEMPLATES_DIR


def template_digests(project_dir: Path) -> dict[str, str]:
    """sha256 of every template file's text, by template name (dbt var omniplay__play_templates)."""
    folder = templates_dir(project_dir)
    return {
        path.stem: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.glob("*.yml"))
    }


def play_version(raw: Mapping[str, Any], template_digest: str) -> str:
    """md5 of the play config (canonical JSON) and its template's digest.

    The SQL side computes the same value at compile time (macros/plays/play_version.sql).
    """
    canonical = json.dumps(raw, sort_keys=True, default=str)
    return hashlib.md5(f"{canonical}|{template_digest}".encode()).hexdigest()


def _field_path(loc: Iterable[Any]) -> str:
    parts = [str(p) for p in loc if not str(p).startswith("function-")]
    return ".".join(parts) or "play"


def _problem(error: Mapping[str, Any]) -> str:
    message = str(error.get("msg", "invalid"))
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _display(path: Path, project_dir: Path) -> str:
    try:
        return str(path.relative_to(project_dir))
    except ValueError:
        return str(path)


def _plays_in_file(path: Path, shown: str) -> Iterable[tuple[str, dict[str, Any]]]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{shown}: not valid YAML: {exc}") from None
    if not isinstance(document, Mapping):
        raise ConfigError(f"{shown}: expected a dbt properties file (a mapping with 'models:')")
    for model in document.get("models") or []:
        if not isinstance(model, Mapping):
            continue
        config = model.get("config") or {}
        meta = config.get("meta") if isinstance(config, Mapping) else None
        if not isinstance(meta, Mapping) or "play" not in meta:
            legacy = model.get("meta")
            if isinstance(legacy, Mapping) and "play" in legacy:
                raise ConfigError(f"{shown}: model '{model.get('name')}': meta.play: "
                                  "put the play under config: meta: play: (dbt 1.10+)")
            continue
        play = meta["play"]
        if not isinstance(play, Mapping):
            raise ConfigError(f"{shown}: model '{model.get('name')}': config.meta.play: must be a mapping")
        yield str(model.get("name") or ""), dict(play)


def load_plays(project_dir: Path, *, check_templates: bool = True) -> list[LoadedPlay]:
    """Every play under models/audiences/, validated, in decision order (priority, id).

    Raises:
        ConfigError: ``<file>: play '<id>': <field>: <problem>`` for the first problem.
    """
    project_dir = Path(project_dir)
    folder = project_dir / AUDIENCES_DIR
    digests = template_digests(project_dir) if check_templates else {}
    tdir = templates_dir(project_dir)
    loaded: list[LoadedPlay] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.rglob("*.yml")):
        shown = _display(path, project_dir)
        for model, raw in _plays_in_file(path, shown):
            play_id = raw.get("id")
            label = f"{shown}: play '{play_id if play_id is not None else model}'"
            try:
                play = Play.model_validate(raw)
            except ValidationError as exc:
                first = exc.errors()[0]
                problem = _problem(first)
                # A nested checker's message already names the subfield (".cron: ...").
                if not first["loc"]:  # a check across fields names its field itself
                    raise ConfigError(f"{label}: {problem}") from None
                joint = "" if problem.startswith(".") else ": "
                raise ConfigError(f"{label}: {_field_path(first['loc'])}{joint}{problem}") from None
            sql_path = path.with_name(f"{model}.sql")
            if not model.startswith("aud_"):
                raise ConfigError(f"{label}: model: '{model}' must be named aud_<name> (an audience model)")
            if not sql_path.is_file():
                raise ConfigError(f"{label}: model: no {model}.sql beside {path.name}")
            if play.id in seen:
                raise ConfigError(f"{label}: id: '{play.id}' is already used by {seen[play.id]}")
            seen[play.id] = shown
            if check_templates:
                _check_template(play, label, tdir, digests)
            loaded.append(LoadedPlay(play, model, path, sql_path, raw))
    return sorted(loaded, key=lambda p: (p.play.priority, p.play.id))


def _check_template(play: Play, label: str, tdir: Path, digests: Mapping[str, str]) -> None:
    if play.template not in digests:
        raise ConfigError(f"{label}: template: no template '{play.template}' ({_display(tdir, tdir.parent.parent)}"
                          f"/{play.template}.yml does not exist)")
    from activation.templates import TemplateStore

    try:
        template = TemplateStore(tdir).load(play.template)
    except ConfigError as exc:
        raise ConfigError(f"{label}: template: {exc}") from None
    for channel in [*play.channels, *(["store"] if play.store_task else [])]:
        variant = getattr(template.variants, channel, None)
        fallback = getattr(template.fallback, channel, None) if template.fallback else None
        if variant is None and fallback is None:
            raise ConfigError(f"{label}: template: '{play.template}' has no {channel} variant or fallback")


def find_play(project_dir: Path, play_id: str) -> LoadedPlay:
    """One play by id; ConfigError listing the known ids when there is none."""
    plays = load_plays(project_dir)
    for loaded in plays:
        if loaded.id == play_id:
            return loaded
    known = ", ".join(p.id for p in plays) or "none"
    raise ConfigError(f"no play '{play_id}' (known: {known})")


# --- Wiring plays into the dbt project ----------------------------------------------------

# Channel -> destination name when neither the play nor var omniplay__channel_destinations
# says otherwise (the same defaults as models/activation/activation_queue.sql).
DEFAULT_DESTINATIONS = {"email": "email", "sms": "sms", "store": "store_tasks"}
WIRING_MODEL = Path("models") / "marts" / "decisions" / "int_play_audiences.sql"
EXPOSURES_FILE = AUDIENCES_DIR / "_exposures.yml"
_WIRING_BEGIN = "-- omniplay:audiences begin"
_WIRING_END = "-- omniplay:audiences end"


def play_destinations(play: Play) -> dict[str, str]:
    """Channel -> destination for every channel the play can use (its store task included)."""
    channels = [*play.channels, *(["store"] if play.store_task else [])]
    return {c: play.destinations.get(c) or DEFAULT_DESTINATIONS[c] for c in channels}


def exposures_yaml(plays: Iterable[LoadedPlay]) -> str:
    """dbt exposures, one per play: lineage audience -> play -> destination in dbt docs."""
    exposures = []
    for loaded in sorted(plays, key=lambda p: p.id):
        play = loaded.play
        destinations = play_destinations(play)
        exposures.append({
            "name": f"play_{play.id}",
            "label": f"Play {play.id}",
            "type": "application",
            "maturity": "high" if play.enabled else "low",
            "description": (
                f"{play.description or play.id}\n\n"
                f"Channels: {', '.join(destinations)} -> destinations: "
                + ", ".join(f"{c}: {d}" for c, d in destinations.items())
                + f". Template: {play.template}. Schedule: {play.schedule.cron} ({play.schedule.timezone}). "
                f"Priority {play.priority}."
            ),
            "owner": {"name": play.owner},
            "depends_on": [f"ref('{loaded.model}')", "ref('activation_queue')"],
            "config": {"meta": {"play_id": play.id, "destinations": destinations, "template": play.template}},
        })
    header = ("# Generated by `omniplay plays sync` from the plays in models/audiences/*.yml: do not edit.\n"
              "# One exposure per play so dbt docs shows audience -> play -> destination.\n")
    return header + yaml.safe_dump({"version": 2, "exposures": exposures}, sort_keys=False, width=100)


def wiring_block(plays: Iterable[LoadedPlay]) -> str:
    """The depends_on lines int_play_audiences needs so dbt orders every audience before it."""
    lines = [_WIRING_BEGIN]
    lines += [f"-- depends_on: {{{{ ref('{m}') }}}}" for m in sorted({p.model for p in plays})]
    lines.append(_WIRING_END)
    return "\n".join(lines)


def sync_project(project_dir: Path) -> list[Path]:
    """Rewrite the generated wiring (int_play_audiences depends_on lines, exposures).

    Returns the files that changed; ConfigError when a play is invalid or the markers
    are missing from the wiring model.
    """
    project_dir = Path(project_dir)
    plays = load_plays(project_dir)
    changed: list[Path] = []

    wiring = project_dir / WIRING_MODEL
    text = wiring.read_text(encoding="utf-8")
    begin, end = text.find(_WIRING_BEGIN), text.find(_WIRING_END)
    if begin < 0 or end < begin:
        raise ConfigError(f"{WIRING_MODEL}: the '{_WIRING_BEGIN}' / '{_WIRING_END}' markers are missing")
    updated = text[:begin] + wiring_block([p for p in plays if p.play.enabled]) + text[end + len(_WIRING_END):]
    if updated != text:
        wiring.write_text(updated, encoding="utf-8")
        changed.append(wiring)

    exposures = project_dir / EXPOSURES_FILE
    rendered = exposures_yaml(plays)
    if not exposures.is_file() or exposures.read_text(encoding="utf-8") != rendered:
        exposures.write_text(rendered, encoding="utf-8")
        changed.append(exposures)
    return changed
