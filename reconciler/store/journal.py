"""The project's journal: the last configuration that applied well, and its rollbacks.

Kept for the apply stage (reconciler/commands/rollback.py reads it), per project and
engine, in the project's private state directory (reconciler/store/places.py). Two
files, each written whole (temp file, fsync, rename, fsync of the directory), so a
SIGKILL leaves the old or the new one:
- `journal.json`: after an apply that converged with every container ready, the
  DesiredState and the resolved Compose model (`docker compose config --format json`,
  secrets included, hence 0600) it was computed from: what a rollback brings back;
- `rollback.json`: per service, a rollback's state (`rolling back` while one runs,
  `rolled back`, `rollback failed`), its reason and time; removed by the next apply that
  succeeds. `status` shows it; a `rolling back` left by a kill is resumed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.store.atomic import Kind, write_kept
from reconciler.store.places import (
    STATE_DIR_VARIABLE,
    private_directory,
    project_state_directory,
)
from state.docker.endpoint import engine_endpoint
from state.errors import ReconcilerError
from state.model.desired import DesiredState
from state.stored import as_json, validated

KIND = "reconcile-journal"
SCHEMA_VERSION = 1
ROLLING_BACK = "rolling back"
ROLLED_BACK = "rolled back"
ROLLBACK_FAILED = "rollback failed"


class JournalUnusable(ReconcilerError):
    """The state directory cannot be used safely, or a journal file is not ours."""


@dataclass(frozen=True)
class Saved:
    """The last configuration that applied well: its desired state and Compose model."""

    desired: DesiredState
    model: Mapping[str, Any]
    at: str


@dataclass(frozen=True)
class Record:
    """One service's rollback: its state, why it happened, and when (local time)."""

    service: str
    state: str
    reason: str
    at: str


def project_directory(project: str, environ: Mapping[str, str] | None = None) -> Path:
    """The project's own state directory (named like its lock: the engine is in the key)."""
    return project_state_directory(project, engine_endpoint(), environ)


def private(directory: Path) -> Path:
    """Create `directory` (0700) or make sure it is the user's alone; JournalUnusable if not."""
    return private_directory(
        directory,
        kind="state directory",
        variable=STATE_DIR_VARIABLE,
        threat="read or replace the journal",
        error=JournalUnusable,
    )


def write_record(path: Path, text: str) -> None:
    """Replace `path` with `text` (0600, fsynced): the old content or the new, never a mix."""
    private(path.parent)
    write_kept(path, text, Kind.RECORD)


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return None  # unreadable or torn by hand: as good as absent (never by a kill)


def save(project: str, desired: DesiredState, model: Mapping[str, Any]) -> None:
    document = {
        "kind": KIND,
        "schema_version": SCHEMA_VERSION,
        "at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "desired": as_json(desired),
        "model": model,
    }
    write_record(project_directory(project) / "journal.json", json.dumps(document))


def load(project: str) -> Saved | None:
    """The last configuration that applied well, or None (never applied, or unreadable)."""
    raw = _read(project_directory(project) / "journal.json")
    if not isinstance(raw, dict) or raw.get("kind") != KIND:
        return None
    if raw.get("schema_version") != SCHEMA_VERSION:
        return None
    try:
        desired = validated(DesiredState, raw["desired"])
    except (KeyError, ValueError):
        return None
    if desired.project != project or not isinstance(raw.get("model"), dict):
        return None
    return Saved(desired=desired, model=raw["model"], at=str(raw.get("at", "")))


def records(project: str) -> dict[str, Record]:
    """The project's rollbacks since its last successful apply, by service."""
    raw = _read(project_directory(project) / "rollback.json")
    if not isinstance(raw, dict):
        return {}
    found = {}
    for service, entry in raw.items():
        if isinstance(entry, dict):
            found[service] = Record(
                service, str(entry.get("state")), str(entry.get("reason")), str(entry.get("at"))
            )
    return found


def note(project: str, services: Mapping[str, str], state: str) -> None:
    """Record `state` (with each service's reason) for these services, keeping the rest."""
    now = time.strftime("%Y-%m-%d %H:%M:%S")
    kept = {
        s: {"state": r.state, "reason": r.reason, "at": r.at} for s, r in records(project).items()
    }
    kept.update({s: {"state": state, "reason": why, "at": now} for s, why in services.items()})
    write_record(project_directory(project) / "rollback.json", json.dumps(kept, indent=2))


def clear(project: str) -> None:
    """The apply succeeded: no rollback is current any more."""
    path = project_directory(project) / "rollback.json"
    if path.exists():
        path.unlink()
