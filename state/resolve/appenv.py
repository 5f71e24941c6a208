"""What APP_ENV resolved to, and from where: a value, no I/O. A project without an
environment table has no APP_ENV of its own (Source.NO_TABLE, an empty name).

Produced by state/resolve/precedence.py (the resolve stage) and carried by DesiredState into
every header and error, so each command can say why it acts on that environment.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from state.stored import STRICT

VARIABLE = "APP_ENV"


class Source(enum.StrEnum):
    """Which level of the precedence chain gave the value."""

    COMMAND_LINE = "command line"
    ENV_FILE = "env file"
    DEFAULT = "default"
    NO_TABLE = "no table"  # the project has no environment table: APP_ENV means nothing


@dataclass(frozen=True, kw_only=True)
class ResolvedAppEnv:
    """The active environment's name and where it was set."""

    __pydantic_config__ = STRICT  # read back by state/stored.py

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
            case Source.NO_TABLE:
                return "no environment table"

    @property
    def has_table(self) -> bool:
        return self.source is not Source.NO_TABLE

    def target(self) -> str:
        """What the stack is brought to: `APP_ENV=dev`, or (no table) its compose files."""
        return f"{VARIABLE}={self.name}" if self.has_table else "its compose files"

    def profiles_of(self) -> str:
        """Whose profiles decide what runs: `the profiles of dev`, or `the active profiles`."""
        return f"the profiles of {self.name}" if self.has_table else "the active profiles"

    def __str__(self) -> str:
        if not self.has_table:
            return "no environment table: as `docker compose up`"
        return f"{VARIABLE}={self.name} ({self.describe_source()})"
