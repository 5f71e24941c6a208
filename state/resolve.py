"""Resolve APP_ENV: the first stage of the pipeline (resolve -> desire/observe -> plan).

Precedence, highest first: the process environment (`APP_ENV=dev just up`), the
project's `.env` file (or --env-file), the table's default. An empty value counts as
unset at its level, as Compose's `${APP_ENV:-prod}` does. The result remembers where
it came from (state/appenv.py).

`.env` is read with python-dotenv, the way Compose reads it: `export KEY=value` is
allowed, quotes are stripped (single quotes literal, double quotes with escapes), a
` #` after an unquoted value starts a comment, a key with no `=` is unset, and when a
key appears twice the last line wins. The file is never written and `os.environ` is
never changed.
"""

from __future__ import annotations

import difflib
import io
from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values
from dotenv.parser import parse_stream

from state.appenv import VARIABLE, ResolvedAppEnv, Source
from state.environments import EnvironmentTable
from state.errors import ConfigError

_SHOWN_CHARS = 40


def read_env_file(path: Path) -> dict[str, str | None]:
    """All variables of a .env file (python-dotenv; last duplicate wins). Missing file: {}."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} cannot be read: {exc}; fix or remove the file") from None
    return dict(dotenv_values(stream=io.StringIO(text), interpolate=False))


def _line_of(path: Path, key: str) -> int | None:
    """The line of the binding of `key` that wins (the last one), for error messages."""
    line = None
    with path.open(encoding="utf-8") as stream:
        for binding in parse_stream(stream):
            if binding.key == key:
                line = binding.original.line
    return line


def resolve(
    table: EnvironmentTable,
    process_env: Mapping[str, str],
    env_file: Path,
) -> ResolvedAppEnv:
    """Pick APP_ENV by precedence and validate it against the table.

    Raises ConfigError naming the value, its source, the valid names and a close match.
    """
    from_process = process_env.get(VARIABLE)
    if from_process:
        resolved = ResolvedAppEnv(name=from_process, source=Source.COMMAND_LINE)
    else:
        from_file = read_env_file(env_file).get(VARIABLE)
        if from_file:
            resolved = ResolvedAppEnv(
                name=from_file,
                source=Source.ENV_FILE,
                path=env_file,
                line=_line_of(env_file, VARIABLE),
            )
        else:
            resolved = ResolvedAppEnv(name=table.default, source=Source.DEFAULT)
    if resolved.name not in table.environments:
        raise ConfigError(_invalid_message(resolved, table))
    return resolved


def _invalid_message(resolved: ResolvedAppEnv, table: EnvironmentTable) -> str:
    value = resolved.name
    shown = value if len(value) <= _SHOWN_CHARS else value[:_SHOWN_CHARS] + "..."
    names = ", ".join(table.names)
    message = (
        f"{VARIABLE}={shown!r} ({resolved.describe_source()}) is not an environment: "
        f"use one of {names}"
    )
    candidate = value.strip().lower()
    close = difflib.get_close_matches(candidate, table.names, n=1, cutoff=0.6)
    if close:
        message += f" (did you mean {close[0]!r}?)"
    return message
