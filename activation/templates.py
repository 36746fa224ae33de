"""Message templates: one canonical message per play, a variant per channel, and a fallback.

A template is `<templates_dir>/<name>.yml`:

    description: Win back lapsed loyalty members
    variants:
      email: {subject: ..., text: ..., html: ...}
      sms: {body: ...}
      store: {talking_points: ...}
    fallback:            # pre-approved copy used when a variant fails to render
      email: {subject: ..., text: ..., html: ...}
      sms: {body: ...}

Everything renders in a Jinja2 sandbox with strict undefined variables, so a missing
personalization variable is an error (then the fallback, then a rejection), never a
blank in front of a customer. HTML parts are autoescaped.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jinja2 import StrictUndefined, TemplateError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, ValidationError

from omniplay.errors import ConfigError

# The parts each channel needs, in order; the first is required.
CHANNEL_PARTS: dict[str, tuple[str, ...]] = {
    "email": ("subject", "text", "html"),
    "sms": ("body",),
    "store": ("talking_points",),
}
REQUIRED_PARTS: dict[str, tuple[str, ...]] = {
    "email": ("subject", "text"),
    "sms": ("body",),
    "store": ("talking_points",),
}


MEMO_SIZE = 50_000  # rendered variants kept; the memo starts over when full
_UNSTABLE_FILTERS = frozenset({"random"})
_UNSTABLE_GLOBALS = frozenset({"lipsum"})


class _Missing:
    """Stands for a variable the context lacks (a template may test `is defined`)."""


_MISSING = _Missing()
_KEYABLE = frozenset({str, int, type(None), _Missing})


class _Variants(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: dict[str, str] | None = None
    sms: dict[str, str] | None = None
    store: dict[str, str] | None = None


class _TemplateFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    variants: _Variants
    fallback: _Variants | None = None


class UnknownTemplate(LookupError):
    """No template file of that name."""


class RenderFailed(ValueError):
    """Neither the variant nor a fallback rendered; the reason names the part and error."""


@dataclass(slots=True)
class Rendered:
    """The rendered parts of one message and whether the fallback was used (and why)."""

    parts: dict[str, str]
    fallback_reason: str | None = None


class TemplateStore:
    """Loads, validates and caches templates from one directory; renders thread-safely."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._text_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
        self._html_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True, keep_trailing_newline=True)
        self._globals = dict(self._text_env.globals)  # the same for both environments
        self._cache: dict[str, _TemplateFile | None] = {}
        # Rendered variants by the values of the variables they read: many messages of a
        # play differ only in variables a variant does not use (store talking points).
        self._inputs: dict[tuple[str, str], tuple[bool, tuple[str, ...]]] = {}
        self._memo: dict[tuple, dict[str, str]] = {}
        self._compiled: dict[tuple[str, str, str, str], Any] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        return sorted(p.stem for p in self.directory.glob("*.yml"))

    def load(self, name: str) -> _TemplateFile:
        """The parsed template; ConfigError names the file and field when it is malformed."""
        found = self._cache.get(name, _MISSING)
        if found is _MISSING:
            with self._lock:
                if name not in self._cache:
                    self._cache[name] = self._read(name)
                found = self._cache[name]
        if found is None:
            raise UnknownTemplate(name)
        return found

    def _read(self, name: str) -> _TemplateFile | None:
        if not name or "/" in name or "\\" in name or name.startswith("."):
            return None
        path = self.directory / f"{name}.yml"
        if not path.is_file():
            return None
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            parsed = _TemplateFile.model_validate(raw)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from None
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise ConfigError(f"{path}: {field}: {first['msg']}") from None
        for section_name, section in (("variants", parsed.variants), ("fallback", parsed.fallback)):
            if section is None:
                continue
            for channel, parts in section.model_dump(exclude_none=True).items():
                unknown = set(parts) - set(CHANNEL_PARTS[channel])
                missing = set(REQUIRED_PARTS[channel]) - set(parts)
                if unknown or missing:
                    problem = f"unknown parts {sorted(unknown)}" if unknown else f"missing parts {sorted(missing)}"
                    raise ConfigError(
                        f"{path}: {section_name}.{channel}: {problem} "
                        f"(a {channel} message has {', '.join(CHANNEL_PARTS[channel])})"
                    )
                for part, source in parts.items():
                    try:
                        self._compile(name, section_name, channel, part, source)
                    except TemplateError as exc:
                        raise ConfigError(f"{path}: {section_name}.{channel}.{part}: {exc}") from None
        return parsed

    def _compile(self, name: str, section: str, channel: str, part: str, source: str):
        key = (name, section, channel, part)
        compiled = self._compiled.get(key)
        if compiled is None:
            env = self._html_env if part == "html" else self._text_env
            compiled = env.from_string(source)
            # A template's globals are a ChainMap over the environment's, copied into a set
            # on every render; a plain dict of the same (never changed) globals is cheaper.
            compiled.globals = dict(compiled.globals)
            self._compiled[key] = compiled
        return compiled

    def render(self, name: str, channel: str, context: dict[str, Any]) -> Rendered:
        """Render the channel variant, else the fallback; raise RenderFailed if neither works."""
        template = self.load(name)
        variant = getattr(template.variants, channel, None)
        fallback = getattr(template.fallback, channel, None) if template.fallback else None
        reason: str | None
        if variant is not None:
            key = self._memo_key(name, channel, variant, context)
            if key is not None and key in self._memo:
                return Rendered(dict(self._memo[key]))
            try:
                parts = self._render_parts(name, "variants", channel, variant, context)
            except Exception as exc:  # noqa: BLE001 - any template error falls back
                reason = _describe(exc)
            else:
                if key is not None:
                    if len(self._memo) >= MEMO_SIZE:
                        self._memo.clear()
                    self._memo[key] = parts
                return Rendered(dict(parts))
        else:
            reason = f"template has no {channel} variant"
        if fallback is None:
            raise RenderFailed(reason)
        try:
            return Rendered(self._render_parts(name, "fallback", channel, fallback, context), fallback_reason=reason)
        except Exception as exc:  # noqa: BLE001
            raise RenderFailed(f"{reason}; fallback also failed: {_describe(exc)}") from None

    def variables_read(self, name: str, channel: str) -> tuple[str, ...] | None:
        """The variables the channel variant reads, when its output depends on their values
        alone; None for a missing template or variant or one using random/lipsum."""
        try:
            template = self.load(name)
        except UnknownTemplate:
            return None
        variant = getattr(template.variants, channel, None)
        if variant is None:
            return None
        inputs = self._inputs.get((name, channel))
        if inputs is None:
            inputs = self._inputs[(name, channel)] = self._variables_read(variant)
        return inputs[1] if inputs[0] else None

    def _memo_key(self, name: str, channel: str, parts: dict[str, str], context: dict[str, Any]) -> tuple | None:
        """A key for the rendered variant, from the values of the variables it reads; None
        when the output may differ for the same values (random, lipsum) or a value is not a
        plain string, int or None (unhashable, or equal across types like 1 and 1.0)."""
        inputs = self._inputs.get((name, channel))
        if inputs is None:
            inputs = self._inputs[(name, channel)] = self._variables_read(parts)
        if not inputs[0]:
            return None
        values = tuple([context.get(v, _MISSING) for v in inputs[1]])
        for value in values:
            if type(value) not in _KEYABLE:
                return None
        return (name, channel, values)

    def _variables_read(self, parts: dict[str, str]) -> tuple[bool, tuple[str, ...]]:
        names: set[str] = set()
        stable = True
        for part, source in parts.items():
            ast = (self._html_env if part == "html" else self._text_env).parse(source)
            names |= meta.find_undeclared_variables(ast)
            stable &= not any(f.name in _UNSTABLE_FILTERS for f in ast.find_all(nodes.Filter))
            stable &= not any(isinstance(c.node, nodes.Name) and c.node.name in _UNSTABLE_GLOBALS
                              for c in ast.find_all(nodes.Call))
        return stable, tuple(sorted(names))

    def _render_parts(self, name: str, section: str, channel: str, parts: dict[str, str], context) -> dict[str, str]:
        # A shared context over one merged dict renders what Template.render would,
        # without copying the globals into a new dict for each part.
        variables = {**self._globals, **context}
        out = {}
        for part, source in parts.items():
            template = self._compile(name, section, channel, part, source)
            out[part] = template.environment.concat(template.root_render_func(template.new_context(variables,
                                                                                                  shared=True)))
        if channel == "email" and "subject" in out:
            out["subject"] = " ".join(out["subject"].split())  # a header: one line
        return out


def _describe(exc: Exception) -> str:
    message = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {message}"[:300]
