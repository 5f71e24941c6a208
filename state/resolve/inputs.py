"""What a command resolves from, read once (the first step of the resolve stage).

Where the project is (state/resolve/discovery.py), the env files Compose reads and the
process environment. The env files' rule is stated here and nowhere else, as Compose
v2.40 has it: `--env-file` when given (it must exist), else COMPOSE_ENV_FILES (comma
separated) from the process environment, else two passes over `.env`: first the one of
--project-directory, of the first -f file's directory or of the working directory
(read before the search, so its COMPOSE_FILE counts), then the one of the directory
the project was found in; a key both set keeps the first pass's value. A `.env` that is
missing or a directory counts as none; COMPOSE_DISABLE_ENV_FILE skips both passes.
Each file is parsed once, as Compose parses it (state/resolve/envfile.py), its secret
values going to state/secrets.py; APP_ENV (state/resolve/precedence.py), the project's
name (state/resolve/naming.py) and the project (state/resolve/project.py) all read these
bindings, never the files again.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from state import secrets
from state.errors import ConfigError
from state.resolve.discovery import Found, find
from state.resolve.envfile import Binding, EnvFileError, parse

DEFAULT_ENV_FILE = ".env"
DISABLE_VARIABLE = "COMPOSE_DISABLE_ENV_FILE"
_TRUE = ("1", "t", "T", "TRUE", "true", "True")  # Go's strconv.ParseBool
_FALSE = ("0", "f", "F", "FALSE", "false", "False")


@dataclass(frozen=True)
class ProjectInputs:
    """The project directory, its env file (path and bindings) and the environment;
    where the project was found (None: `directory` in this repository's layout) and,
    when Compose reads more than one env file, all of them (later ones win)."""

    directory: Path
    env_file: Path
    env_file_given: bool  # --env-file: required to exist
    environ: Mapping[str, str]
    bindings: Mapping[str, Binding]
    found: Found | None = None
    read_files: tuple[Path, ...] | None = None  # None: env_file alone, if it is a file
    origins: Mapping[str, Path] = field(default_factory=dict)  # key -> its file, if not env_file

    def from_env_file(self, name: str) -> Binding | None:
        return self.bindings.get(name)

    def file_of(self, name: str) -> Path:
        """The env file that set `name` (APP_ENV's source, in messages)."""
        return self.origins.get(name, self.env_file)

    def lookup(self, name: str) -> str | None:
        """A variable as Compose's loader sees it: the process environment (an empty value
        too), else the env files."""
        if name in self.environ:
            return self.environ[name]
        binding = self.bindings.get(name)
        return binding.value if binding else None

    @property
    def env_files(self) -> tuple[Path, ...]:
        """The env files Compose reads, in the order to hand them over (later ones win)."""
        if self.read_files is not None:
            return self.read_files
        return (self.env_file,) if self.env_file.is_file() else ()


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


def gather(
    cwd: Path,
    *,
    project_directory: Path | None = None,
    files: Sequence[Path] = (),
    env_file: Path | None = None,
    environ: Mapping[str, str],
    tables: bool = True,
) -> ProjectInputs:
    """Find the project as Compose does and read its env files, each once (see above);
    ConfigError naming the fix when Compose would fail too, or nothing is found.
    `tables`: False to find what Compose alone finds (an environment table ignored)."""
    secrets.remember(environ)
    project_directory = project_directory.resolve() if project_directory else None
    explicit = _explicit_env_files(cwd, env_file, environ)
    disabled = _disabled(environ)
    first_dir = project_directory or ((cwd / files[0]).resolve().parent if files else cwd)
    read: list[tuple[Path, dict[str, Binding]]] = []
    if explicit:
        merged: dict[str, Binding] = {}
        for path in explicit:
            bindings = read_env_file(path, ChainMap(dict(environ), _values(merged)), required=True)
            merged.update(bindings)
            read.append((path, bindings))
    elif not disabled:
        _read_if_there(first_dir / DEFAULT_ENV_FILE, environ, {}, read)
    seen = ChainMap(dict(environ), *(_values(b) for _, b in reversed(read)))
    found = find(
        cwd,
        project_directory=project_directory,
        files=files,
        compose_file=seen.get("COMPOSE_FILE"),
        separator=seen.get("COMPOSE_PATH_SEPARATOR"),
        tables=tables,
    )
    if not explicit and not disabled:
        second = found.root / DEFAULT_ENV_FILE
        if not read or read[0][0] != second.resolve():
            _read_if_there(second, environ, _values(read[0][1]) if read else {}, read)
    return _inputs(found, read, explicit, environ)


def _inputs(
    found: Found,
    read: list[tuple[Path, dict[str, Binding]]],
    explicit: tuple[Path, ...],
    environ: Mapping[str, str],
) -> ProjectInputs:
    """Later files win for an explicit list; for `.env`, the first pass wins."""
    ordered = read if explicit else list(reversed(read))
    bindings: dict[str, Binding] = {}
    origins: dict[str, Path] = {}
    for path, found_bindings in ordered:
        bindings.update(found_bindings)
        origins.update(dict.fromkeys(found_bindings, path))
    primary = explicit[0] if explicit else read[0][0] if read else found.root / DEFAULT_ENV_FILE
    return ProjectInputs(
        directory=found.root,
        env_file=primary.resolve(),
        env_file_given=bool(explicit),
        environ=environ,
        bindings=bindings,
        found=found,
        read_files=tuple(path for path, _ in ordered),
        origins={k: v for k, v in origins.items() if v != primary.resolve()},
    )


def _explicit_env_files(
    cwd: Path, env_file: Path | None, environ: Mapping[str, str]
) -> tuple[Path, ...]:
    """--env-file, else COMPOSE_ENV_FILES: relative to the working directory, as Compose."""
    variable = environ.get("COMPOSE_ENV_FILES", "")
    listed = [env_file] if env_file else [Path(p) for p in variable.split(",") if p]
    return tuple((path if path.is_absolute() else cwd / path).resolve() for path in listed)


def _disabled(environ: Mapping[str, str]) -> bool:
    value = environ.get(DISABLE_VARIABLE)
    if value is None or value in _FALSE:
        return False
    if value in _TRUE:
        return True
    raise ConfigError(
        f"{DISABLE_VARIABLE}={value!r} is not a boolean (Compose refuses it too): "
        "set it to 1 or 0, or unset it"
    )


def _read_if_there(
    path: Path,
    environ: Mapping[str, str],
    earlier: Mapping[str, str],
    read: list[tuple[Path, dict[str, Binding]]],
) -> None:
    if path.is_file():
        path = path.resolve()
        read.append((path, read_env_file(path, ChainMap(dict(environ), dict(earlier)))))


def _values(bindings: Mapping[str, Binding]) -> dict[str, str]:
    return {key: binding.value for key, binding in bindings.items()}
