"""A project's input files (observe stage, polled): which changed since last asked.

What `reconcile watch` polls, once a second: the env files, the environment table,
every compose file the table names (all environments: an .env edit may switch
APP_ENV) or, without a table, the compose files found, and the content files the
services use (configs, secrets, declared files).
A handful of small files, so hashing them all is cheaper than any file-watching
library, needs none, and cannot miss an edit that keeps the mtime.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from state.model.desired import DesiredState
from state.resolve.project import ComposeProject


@dataclass(frozen=True)
class InputChanged:
    """An input file's content changed (or it appeared, or went)."""

    path: str
    what: str = "changed"


def input_paths(project: ComposeProject, desired: DesiredState | None = None) -> tuple[Path, ...]:
    """The files a plan is computed from: the env file, the environment table, the
    compose files of every environment (an .env edit may switch APP_ENV), and, once a
    desired state was read, the content files its services use (state/model/content.py)."""
    used = {
        project.directory / name
        for service in (desired.services.values() if desired else ())
        for name in service.content
    }
    table = (project.table_path,) if project.table_path else ()
    others = tuple(path for path in project.env_files() if path != project.env_file)
    return (project.env_file, *others, *table, *project.all_files(), *sorted(used))


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:  # missing, a directory, unreadable: all "not there" to Compose
        return None


class InputFiles:
    """The inputs' digests; changes() says which changed since it was last asked."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.digests: dict[Path, str | None] = {}

    def follow(self, paths: Sequence[Path]) -> None:
        """Watch `paths` from now on (a path new to the list starts from its content now)."""
        self.digests = {p: self.digests[p] if p in self.digests else _digest(p) for p in paths}

    def changes(self) -> list[InputChanged]:
        found = []
        for path, before in self.digests.items():
            now = _digest(path)
            if now != before:
                what = "was created" if before is None else "was removed" if now is None else None
                found.append(InputChanged(self.shown(path), what or "changed"))
                self.digests[path] = now
        return found

    def shown(self, path: Path) -> str:
        return (
            str(path.relative_to(self.directory))
            if path.is_relative_to(self.directory)
            else str(path)
        )
