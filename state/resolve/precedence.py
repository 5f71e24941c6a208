"""Resolve APP_ENV (resolve stage: resolve -> desire/observe -> plan).

Precedence, highest first: the process environment (`APP_ENV=dev just up`), the
project's `.env` file (or --env-file), the table's default. An empty value counts as
unset at its level, as Compose's `${APP_ENV:-prod}` does. The result remembers where
it came from (state/resolve/appenv.py).

The env file was read once, as Compose reads it (state/resolve/inputs.py), with the
process environment for its `$NAME` references, so that the APP_ENV resolved here is
the one Compose would resolve from the same file. The file is never written and
`os.environ` is never changed.
"""

from __future__ import annotations

from state.errors import ConfigError
from state.resolve.appenv import VARIABLE, ResolvedAppEnv, Source
from state.resolve.envfile import escape_non_ascii
from state.resolve.inputs import ProjectInputs
from state.resolve.table import EnvironmentTable

_SHOWN_CHARS = 40


def resolve(table: EnvironmentTable, inputs: ProjectInputs) -> ResolvedAppEnv:
    """Pick APP_ENV by precedence and validate it against the table.

    The env file was read (state/resolve/inputs.py) even when the command line sets
    APP_ENV: Compose reads it too, so a file Compose cannot read fails first, with its
    line. Raises ConfigError naming the value, its source, the valid names and a close
    match."""
    from_file = inputs.from_env_file(VARIABLE)
    from_process = inputs.environ.get(VARIABLE)
    if from_process:
        resolved = ResolvedAppEnv(name=from_process, source=Source.COMMAND_LINE)
    elif from_file and from_file.value:
        resolved = ResolvedAppEnv(
            name=from_file.value,
            source=Source.ENV_FILE,
            path=inputs.file_of(VARIABLE),
            line=from_file.line,
        )
    else:
        resolved = ResolvedAppEnv(name=table.default, source=Source.DEFAULT)
    if resolved.name not in table.environments:
        raise ConfigError(_invalid_message(resolved, table))
    return resolved


def without_table() -> ResolvedAppEnv:
    """A project without an environment table: APP_ENV selects nothing (Compose may still
    interpolate it like any other variable)."""
    return ResolvedAppEnv(name="", source=Source.NO_TABLE)


def _invalid_message(resolved: ResolvedAppEnv, table: EnvironmentTable) -> str:
    value = resolved.name
    shown = value if len(value) <= _SHOWN_CHARS else value[:_SHOWN_CHARS] + "..."
    names = ", ".join(table.names)
    message = (
        f"{VARIABLE}='{escape_non_ascii(shown)}' ({resolved.describe_source()}) is not an "
        f"environment: use one of {names}"
    )
    candidate = value.strip().lower()
    import difflib  # here: only a refusal suggests a name

    close = difflib.get_close_matches(candidate, table.names, n=1, cutoff=0.6)
    if close:
        message += f" (did you mean {close[0]!r}?)"
    return message
