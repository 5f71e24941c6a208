"""Resolve APP_ENV: the first stage of the pipeline (resolve -> desire/observe -> plan).

Precedence, highest first: the process environment (`APP_ENV=dev just up`), the
project's `.env` file (or --env-file), the table's default. An empty value counts as
unset at its level, as Compose's `${APP_ENV:-prod}` does. The result remembers where
it came from (state/resolve/appenv.py).

The env file is read as Compose reads it (state/resolve/envfile.py), with the process
environment for its `$NAME` references, so that the APP_ENV resolved here is the one
Compose would resolve from the same file; when Compose could not read the file either,
the error names `file:line`. A missing or directory `.env` counts as none, as in
Compose; a missing `--env-file` is an error, as in Compose. The file is never written
and `os.environ` is never changed. The secret values it holds go to state/secrets.py.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path

from state import secrets
from state.errors import ConfigError
from state.resolve.appenv import VARIABLE, ResolvedAppEnv, Source
from state.resolve.envfile import Binding, EnvFileError, escape_non_ascii, parse
from state.resolve.table import EnvironmentTable

_SHOWN_CHARS = 40


def read_env_file(
    path: Path, environ: Mapping[str, str], *, required: bool = False
) -> dict[str, Binding]:
    """Every variable of an env file as Compose reads it; {} when there is no such file.

    `required` (an explicit --env-file): a missing file or a directory is an error,
    as it is for Compose. ConfigError names `file:line` when Compose would fail too.
    """
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError) as exc:
        if not required:
            return {}
        what = "is a directory" if isinstance(exc, IsADirectoryError) else "does not exist"
        raise ConfigError(
            f"env file {path} {what}: check the --env-file path, or leave it out for .env"
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"env file {path} cannot be read ({exc.strerror}): fix its permissions"
        ) from None
    try:
        bindings = parse(data, environ)
    except EnvFileError as exc:
        raise ConfigError(
            f"{path}:{exc.line}: {exc.why}; Compose cannot read this file either: fix that line"
        ) from None
    secrets.remember({key: binding.value for key, binding in bindings.items()})
    return bindings


def resolve(
    table: EnvironmentTable,
    process_env: Mapping[str, str],
    env_file: Path,
    *,
    required: bool = False,
) -> ResolvedAppEnv:
    """Pick APP_ENV by precedence and validate it against the table.

    The env file is read even when the command line sets APP_ENV: Compose reads it
    too, so a file Compose cannot read fails here first, with its line. Raises
    ConfigError naming the value, its source, the valid names and a close match.
    """
    secrets.remember(process_env)
    from_file = read_env_file(env_file, process_env, required=required).get(VARIABLE)
    from_process = process_env.get(VARIABLE)
    if from_process:
        resolved = ResolvedAppEnv(name=from_process, source=Source.COMMAND_LINE)
    else:
        if from_file and from_file.value:
            resolved = ResolvedAppEnv(
                name=from_file.value,
                source=Source.ENV_FILE,
                path=env_file,
                line=from_file.line,
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
        f"{VARIABLE}='{escape_non_ascii(shown)}' ({resolved.describe_source()}) is not an "
        f"environment: use one of {names}"
    )
    candidate = value.strip().lower()
    close = difflib.get_close_matches(candidate, table.names, n=1, cutoff=0.6)
    if close:
        message += f" (did you mean {close[0]!r}?)"
    return message
