"""The error types of every stage: expected failures carry a one-line message.

The CLI prints `str(error)` for any `ReconcilerError` and exits 1; anything else is a
bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class ReconcilerError(Exception):
    """Root of the expected errors: the message says what is wrong and how to fix it."""


class ConfigError(ReconcilerError, ValueError):
    """Bad input: APP_ENV, .env, the environment table or the compose files."""


class EngineError(ReconcilerError):
    """Docker or Compose refused or failed."""


class TransientError(EngineError):
    """Worth retrying: the daemon was briefly away, a name was still being released."""


class PermanentError(EngineError):
    """Retrying is useless: bad configuration, missing image, port in use."""


class ContainerGone(PermanentError):
    """The container no longer exists: success for a removal, a re-plan for anything else."""


class EngineTimeout(PermanentError):
    """The engine gave no answer within the call's bound: retrying would only wait again."""


def where_and_why(errors: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    """The first of a validation's errors (pydantic's `exc.errors()`): the dotted key it
    is at, and its message; for the one-line error of a file the tool reads."""
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"]) or "(top level)"
    return where, str(first["msg"])
