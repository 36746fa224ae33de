"""Destinations, resolved by short name (`smtp`) or dotted path (`my_pkg.module.MyDestination`).

Modules are imported only when a configured destination uses them, so heavy clients
(smtplib, httpx) load lazily.
"""

from __future__ import annotations

import importlib

from activation.destinations.base import (
    AMBIGUOUS,
    DEFERRED,
    REJECTED,
    RETRY,
    SENT,
    BatchOutcome,
    Destination,
    DestinationContext,
    DestinationSettings,
    Message,
    Result,
)
from omniplay.errors import ConfigError

BUILTIN = {
    "outbox": "activation.destinations.outbox:OutboxDestination",
    "smtp": "activation.destinations.smtp:SmtpDestination",
    "twilio": "activation.destinations.twilio:TwilioDestination",
    "store_webhook": "activation.destinations.store_webhook:StoreWebhookDestination",
    "store_tasks": "activation.destinations.store_tasks:StoreTasksDestination",
}

__all__ = [
    "AMBIGUOUS", "BatchOutcome", "DEFERRED", "REJECTED", "RETRY", "SENT", "BUILTIN", "Destination",
    "DestinationContext", "DestinationSettings", "Message", "Result", "resolve",
]


def resolve(type_name: str) -> type[Destination]:
    """The destination class for a built-in short name or a `module.Class` dotted path."""
    if type_name in BUILTIN:
        module_name, _, attr = BUILTIN[type_name].partition(":")
    elif "." in type_name:
        module_name, _, attr = type_name.rpartition(".")
    else:
        raise ConfigError(
            f"unknown destination type {type_name!r}: use one of {', '.join(sorted(BUILTIN))} "
            f"or a dotted path to a Destination subclass"
        )
    try:
        module = importlib.import_module(module_name)
        cls = getattr(module, attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"cannot load destination type {type_name!r}: {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, Destination)):
        raise ConfigError(f"destination type {type_name!r} is not a Destination subclass")
    return cls
