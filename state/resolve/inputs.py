"""What a command resolves from, read once (the first step of the resolve stage).

The project directory, the env file Compose reads there and the process environment. The
env file's rule is stated here and nowhere else: `--env-file` when given (it must exist,
as for Compose), else `.env` of the project directory (none when it is missing or a
directory, as for Compose). The file is parsed once, as Compose parses it
(state/resolve/envfile.py), its secret values going to state/secrets.py; APP_ENV
(state/resolve/precedence.py), the project's name (state/resolve/naming.py) and the
project (state/resolve/project.py) all read these bindings, never the file again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from state import secrets
from state.errors import ConfigError
from state.resolve.envfile import Binding, EnvFileError, parse

DEFAULT_ENV_FILE = ".env"


@dataclass(frozen=True)
class ProjectInputs:
    """The project directory, its env file (path and bindings) and the environment."""

    directory: Path
    env_file: Path
    env_file_given: bool  # --env-file: required to exist
    environ: Mapping[str, str]
    bindings: Mapping[str, Binding]

    def from_env_file(self, name: str) -> Binding | None:
        return self.bindings.get(name)


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


def env_file_path(directory: Path, explicit: Path | None) -> Path:
    """The env file Compose reads for `directory`: `explicit`, else its `.env`."""
    return (explicit or directory / DEFAULT_ENV_FILE).resolve()


def read_inputs(
    directory: Path, *, env_file: Path | None = None, environ: Mapping[str, str]
) -> ProjectInputs:
    """Read what the resolve stage needs, the env file once; ConfigError on a file
    Compose could not read either (naming `file:line`), or a missing --env-file."""
    directory = directory.resolve()
    path = env_file_path(directory, env_file)
    secrets.remember(environ)
    bindings = read_env_file(path, environ, required=env_file is not None)
    return ProjectInputs(
        directory=directory,
        env_file=path,
        env_file_given=env_file is not None,
        environ=environ,
        bindings=bindings,
    )
