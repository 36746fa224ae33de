"""`activation/destinations.yml`: the destinations a queue row may name, validated with pydantic.

String values may reference environment variables as `${NAME}` or `${NAME:-default}`;
that is the only way secrets get in. References are resolved when a destination is
used, so an unset variable only matters for destinations a sync actually needs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from activation.destinations import Destination, DestinationContext, resolve
from activation.flow import TokenBucket, Unlimited
from omniplay.errors import ConfigError

CONFIG_ENV = "OMNIPLAY_DESTINATIONS_FILE"
DEFAULT_CONFIG = Path("activation") / "destinations.yml"
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class DestinationConfig(BaseModel):
    """Flow control common to every destination, plus its type-specific `settings`."""

    model_config = ConfigDict(extra="forbid")

    type: str
    batch_size: int | None = Field(default=None, ge=1, le=10_000)
    max_concurrency: int = Field(default=4, ge=1, le=64)
    # Each worker sends from a forked process of its own (activation.senders): every core
    # is used; the rate limit is split between the processes.
    worker_processes: bool = False
    rate_limit: float | None = Field(default=None, gt=0, description="requests per second")
    burst: int | None = Field(default=None, ge=1)
    max_attempts: int = Field(default=5, ge=1, le=50)
    backoff_initial: float = Field(default=0.5, gt=0)
    backoff_max: float = Field(default=30.0, gt=0)
    settings: dict[str, Any] = Field(default_factory=dict)


class ActivationConfig(BaseModel):
    """The whole file."""

    model_config = ConfigDict(extra="forbid")

    templates_dir: Path = Path("activation") / "templates"
    destinations: dict[str, dict[str, Any]]

    @field_validator("destinations")
    @classmethod
    def _names(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        for name, body in value.items():
            if not isinstance(body, dict):
                raise ValueError(f"destination {name!r} must be a mapping with at least `type`")
        return value


class Config:
    """A loaded destinations file; destinations are validated and built on demand."""

    def __init__(self, path: Path, raw: ActivationConfig, project_dir: Path):
        self.path = path
        self.raw = raw
        self.project_dir = project_dir

    @property
    def templates_dir(self) -> Path:
        d = self.raw.templates_dir
        return d if d.is_absolute() else self.project_dir / d

    @property
    def names(self) -> list[str]:
        return sorted(self.raw.destinations)

    def destination_config(self, name: str) -> DestinationConfig:
        """The validated, env-resolved config of one destination (ConfigError if broken)."""
        if name not in self.raw.destinations:
            raise ConfigError(f"{self.path}: no destination named {name!r} (have: {', '.join(self.names)})")
        where = f"{self.path}: destinations.{name}"
        body = _expand(self.raw.destinations[name], where)
        try:
            return DestinationConfig.model_validate(body)
        except ValidationError as exc:
            raise ConfigError(_first_error(where, exc)) from None

    def build(self, name: str, clock: Callable[[], datetime] | None = None,
              rate_share: int = 1) -> tuple[Destination, DestinationConfig]:
        """Instantiate destination `name` with its validated settings and rate limiter
        (whose rate and burst are divided by `rate_share`: one of that many senders)."""
        cfg = self.destination_config(name)
        cls = resolve(cfg.type)
        try:
            settings = cls.Settings.model_validate(cfg.settings)
        except ValidationError as exc:
            raise ConfigError(_first_error(f"{self.path}: destinations.{name}.settings", exc)) from None
        limiter = Unlimited()
        if cfg.rate_limit:
            burst = max(1, cfg.burst // rate_share) if cfg.burst else None
            limiter = TokenBucket(cfg.rate_limit / rate_share, burst)
        context = DestinationContext(project_dir=self.project_dir, limiter=limiter,
                                     **({"clock": clock} if clock else {}))
        return cls(name, settings, context), cfg


def load_config(project_dir: Path, path: Path | None = None) -> Config:
    """Read and validate the destinations file (explicit path, $OMNIPLAY_DESTINATIONS_FILE, default)."""
    chosen = path or (Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else DEFAULT_CONFIG)
    if not chosen.is_absolute():
        chosen = project_dir / chosen
    if not chosen.is_file():
        raise ConfigError(f"destinations file {chosen} not found (set {CONFIG_ENV} or pass --config)")
    try:
        data = yaml.safe_load(chosen.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{chosen}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{chosen}: must be a mapping with a `destinations:` key")
    try:
        raw = ActivationConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_first_error(str(chosen), exc)) from None
    return Config(chosen, raw, project_dir)


def _expand(value: Any, where: str) -> Any:
    if isinstance(value, str):
        def sub(match: re.Match) -> str:
            name, default = match.group(1), match.group(2)
            found = os.environ.get(name)
            if found is None or (found == "" and default is not None):
                if default is None:
                    raise ConfigError(f"{where}: environment variable {name} is not set (referenced as ${{{name}}})")
                return default
            return found

        return _ENV_REF.sub(sub, value)
    if isinstance(value, dict):
        return {k: _expand(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def _first_error(where: str, exc: ValidationError) -> str:
    errors = exc.errors(include_input=False)
    first = errors[0]
    field = ".".join(str(p) for p in first["loc"])
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}{'.' + field if field else ''}: {first['msg']}{more}"
