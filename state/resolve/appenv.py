"""What APP_ENV resolved to, and from where: a value, no I/O.

Produced by state/resolve/precedence.py (the resolve stage) and carried by DesiredState into
every header and error, so each command can say why it acts on that environment.
"""

from __future__ import annotations

import enum
from pathlib import Path

from pydantic import BaseModel, ConfigDict

VARIABLE = "APP_ENV"


class Source(enum.StrEnum):
    """Which level of the precedence chain gave the value."""

    COMMAND_LINE = "command line"
    ENV_FILE = "env file"
    DEFAULT = "default"


class ResolvedAppEnv(BaseModel):
    """The active environment's name and where it was set."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    source: Source
    path: Path | None = None
    line: int | None = None

    def describe_source(self) -> str:
        """`from the command line`, `from .env:3`, `default`: for headers and errors."""
        match self.source:
            case Source.COMMAND_LINE:
                return "from the command line"
            case Source.ENV_FILE:
                return f"from {self.path}:{self.line}" if self.line else f"from {self.path}"
            case Source.DEFAULT:
                return "the default"

    def __str__(self) -> str:
        return f"{VARIABLE}={self.name} ({self.describe_source()})"
