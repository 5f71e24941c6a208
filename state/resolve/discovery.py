"""Find a project as Compose finds it: its compose files, its directory, its table
(the resolve stage's first read, before the env file's second pass and APP_ENV).

Compose v2.40's rules (compose-go v2.9.1 `cli/options.go`), in order:
- `-f FILE` (repeatable): the compose files, relative to the working directory;
- else COMPOSE_FILE (the process environment, else the env file read before the search)
  split on COMPOSE_PATH_SEPARATOR (default `:`), each relative to the working directory
  and required to exist;
- else, from --project-directory (or the working directory) up to `/`, the first
  directory holding compose.yaml, compose.yml, docker-compose.yml or docker-compose.yaml
  (the first of these names when several are there), plus that directory's override
  file: compose.override.yml, compose.override.yaml, docker-compose.override.yml,
  docker-compose.override.yaml (the first found). The override is never added to -f or
  COMPOSE_FILE.
Compose's project directory, against which every relative path in the files resolves,
is --project-directory, else the directory of the first file.

The environment table is found on the same walk, first at each directory: beside the
compose files (`environments.toml`, where `reconcile init` writes it), or in a
`compose/` folder (the compose files in `compose/`, the project's `.env` and name one
level up: this repository's own layout). A table's folder is Compose's project
directory and its `files` are relative to it. With -f or COMPOSE_FILE, a table beside
the first file is used, and the files given win over its `files`. Reads directories,
nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from state.errors import ConfigError
from state.resolve.table import TABLE_FILE

COMPOSE_DIR = "compose"
DEFAULT_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
OVERRIDE_FILES = (
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
)


@dataclass(frozen=True)
class Found:
    """Where the project is: the directory it is named after and whose `.env` is read
    (`root`), Compose's project directory, the compose files (none: the table names
    them per environment), the table, and how the files were found."""

    root: Path
    compose_directory: Path
    files: tuple[Path, ...]
    table: Path | None
    how: str  # "-f", "COMPOSE_FILE", "search" or "table", for doctor and messages
    notes: tuple[str, ...] = ()  # what Compose would warn about (several files found)

    @classmethod
    def layout(cls, root: Path) -> Found:
        """This repository's layout at `root`: compose files and table in `root/compose`."""
        return cls(root, root / COMPOSE_DIR, (), root / COMPOSE_DIR / TABLE_FILE, "table")


def find(
    cwd: Path,
    *,
    project_directory: Path | None = None,
    files: Sequence[Path] = (),
    compose_file: str | None = None,
    separator: str | None = None,
    tables: bool = True,
) -> Found:
    """The project as Compose finds it from `cwd`; ConfigError naming the fix otherwise.

    `files`: -f; `compose_file`/`separator`: COMPOSE_FILE and COMPOSE_PATH_SEPARATOR as
    Compose sees them (None: unset); `tables`: False to find what Compose alone finds."""
    if files:
        return _given(cwd, project_directory, [Path(f) for f in files], "-f", tables)
    if compose_file is not None:
        entries = compose_file.split(separator or ":")
        if not compose_file or not all(entries):
            raise ConfigError(
                f"COMPOSE_FILE={compose_file!r} names an empty path: list the compose "
                f"files separated by {separator or ':'!r}, or unset it"
            )
        paths = [Path(e) for e in entries]
        return _given(cwd, project_directory, paths, "COMPOSE_FILE", tables)
    return search(project_directory or cwd, project_directory, tables)


def _given(
    cwd: Path, project_directory: Path | None, paths: list[Path], how: str, tables: bool
) -> Found:
    if any(str(path) == "-" for path in paths):
        raise ConfigError(f"{how} names `-` (standard input): name the compose files instead")
    absolute = tuple(path if path.is_absolute() else cwd / path for path in paths)
    for path in absolute:
        if not path.is_file():
            what = "is not a file" if path.exists() else "does not exist"
            raise ConfigError(f"compose file {path} ({how}) {what}: fix the path")
    directory = project_directory or absolute[0].parent
    table = directory / TABLE_FILE
    found = table if tables and table.is_file() else None
    return Found(directory, directory, absolute, found, how)


def search(start: Path, project_directory: Path | None = None, tables: bool = True) -> Found:
    """Walk from `start` up to `/`: the first table or compose file found wins."""
    for directory in (start, *start.parents):
        if tables and (directory / TABLE_FILE).is_file():
            return Found(directory, directory, (), directory / TABLE_FILE, "table")
        if tables and (directory / COMPOSE_DIR / TABLE_FILE).is_file():
            return Found.layout(directory)
        names = [name for name in DEFAULT_FILES if (directory / name).is_file()]
        if names:
            return _searched(directory, names, project_directory)
    looked = ", ".join((*DEFAULT_FILES, TABLE_FILE, f"{COMPOSE_DIR}/{TABLE_FILE}"))
    raise ConfigError(
        f"no compose file found in {start} or its parents (looked for {looked}): run from "
        "the project's directory, or pass --project-directory DIR or --file FILE"
    )


def _searched(directory: Path, names: list[str], project_directory: Path | None) -> Found:
    overrides = [name for name in OVERRIDE_FILES if (directory / name).is_file()]
    notes = []
    if len(names) > 1:
        notes.append(f"several compose files in {directory} ({', '.join(names)}): using {names[0]}")
    if len(overrides) > 1:
        notes.append(
            f"several override files in {directory} ({', '.join(overrides)}): using {overrides[0]}"
        )
    files = (directory / names[0], *(directory / name for name in overrides[:1]))
    compose_directory = project_directory or directory
    return Found(compose_directory, compose_directory, files, None, "search", tuple(notes))
