"""The error types of every stage: expected failures carry a one-line message.

The CLI prints `str(error)` for any `ReconcilerError` and exits 1; anything else is a
bug and keeps its traceback.
"""

from __future__ import annotations


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
