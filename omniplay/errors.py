"""One root exception for the project; each kind maps to a scheduler exit code.

Exit codes (DESIGN.md): 0 ok, 1 unexpected error, 2 usage or configuration error,
3 a quality gate blocked a play, 4 some messages failed permanently, 5 another run
holds the lock. Only the CLI turns these into exit codes.
"""

from __future__ import annotations


class OmniplayError(Exception):
    """Root of every error omniplay raises on purpose."""

    exit_code = 1


class ConfigError(OmniplayError):
    """Bad configuration or usage: the message names the file and field to fix."""

    exit_code = 2


class BuildError(OmniplayError):
    """The dbt build (or loading its sources) failed; nothing downstream may run."""

    exit_code = 1


class GateBlocked(OmniplayError):
    """A quality gate blocked one or more plays."""

    exit_code = 3


class DeliveryFailed(OmniplayError):
    """Some messages failed permanently."""

    exit_code = 4


class LockHeld(OmniplayError):
    """Another run holds the lock on this target."""

    exit_code = 5


# Delivery errors, in the three kinds a destination can raise (STYLE.md, Meltano).
class DestinationError(OmniplayError):
    """Root of errors raised while delivering to a destination."""


class FatalDestinationError(DestinationError):
    """Auth or configuration failure: stop the play, send nothing more."""


class RetriableDestinationError(DestinationError):
    """Transient failure (429, 5xx, timeout): back off and retry."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class SkippableDestinationError(DestinationError):
    """This message cannot be delivered (bad address, unsubscribed): record and go on."""

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.code = code
