"""The project's history: one receipt per apply, appended to a JSON-lines file (store stage).

Every apply that acted (`reconcile`, `apply FILE`, `restart`, `stop`, `down`, watch
passes, rollbacks) leaves a receipt (reconciler/commands/receipts.py builds it): when,
who, where, APP_ENV and its source, the plan's digest, each action's outcome and
seconds, each service's measured unavailability, the result. The file lives in the
project's private state directory (reconciler/store/places.py, beside the journal),
0600, and is only ever appended to: opened O_APPEND|O_NOFOLLOW, each receipt one line
written in one `write` under an flock on the file itself, then fsynced. So:
- two writers (two processes, or a watch and a `reconcile`) never interleave lines;
- a SIGKILL mid-write leaves at most a torn last line: readers skip any line that is
  not a whole receipt, and the next writer starts on a fresh line, never fatal;
- it stays bounded: past MAX_BYTES the file is renamed to `history.1.jsonl` (the one
  before it dropped) under the same flock; a writer that waited on the renamed file
  sees that (its inode is no longer the path's) and opens the new one.
Secret values are masked (state/secrets.py's redact) before a receipt is written.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from reconciler.store.journal import private, project_directory
from state.secrets import redact

KIND = "reconcile-receipt"
SCHEMA_VERSION = 1
FILE = "history.jsonl"
ROTATED = "history.1.jsonl"
MAX_BYTES = 1_000_000  # about a thousand receipts of a small stack per file, two files kept


def history_path(project: str, environ: Mapping[str, str] | None = None) -> Path:
    return project_directory(project, environ) / FILE


def append(project: str, receipt: Mapping[str, Any], *, max_bytes: int = MAX_BYTES) -> None:
    """Append `receipt` (secrets masked) as one line; OSError when the file cannot be."""
    path = history_path(project)
    private(path.parent)
    line = redact(json.dumps({"kind": KIND, "schema_version": SCHEMA_VERSION, **receipt}))
    append_line(path, line, max_bytes=max_bytes)


def append_line(path: Path, line: str, *, max_bytes: int = MAX_BYTES) -> None:
    """Append one line to `path` under its flock, rotating it first when it is full."""
    data = line.replace("\n", " ").encode() + b"\n"
    while True:
        fd = _open(path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if not _current(fd, path):  # rotated while we waited: append to the new one
                continue
            size = os.fstat(fd).st_size
            if size and size + len(data) > max_bytes:
                os.replace(path, path.with_name(ROTATED))
                continue  # the next open makes a fresh file
            if size and _last_byte(fd, size) != b"\n":
                data = b"\n" + data  # a torn line left by a kill stays alone on its line
            os.write(fd, data)
            os.fsync(fd)
            return
        finally:
            os.close(fd)  # releases the flock


def _open(path: Path) -> int:
    flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(path, flags, 0o600)
    os.fchmod(fd, 0o600)
    return fd


def _current(fd: int, path: Path) -> bool:
    try:
        return os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def _last_byte(fd: int, size: int) -> bytes:
    return os.pread(fd, 1, size - 1)


def receipts(project: str, environ: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Every whole receipt kept for the project, newest first (torn or foreign lines skipped)."""
    path = history_path(project, environ)
    found: list[dict[str, Any]] = []
    for name in (ROTATED, FILE):
        found += read_lines(path.with_name(name))
    return found[::-1]


def newest(project: str, limit: int) -> Iterator[dict[str, Any]]:
    """Up to `limit` receipts, newest first, each line parsed only when reached (the
    predictions read a few recent ones, not the whole history)."""
    path = history_path(project)
    count = 0
    for name in (FILE, ROTATED):
        try:
            raw = path.with_name(name).read_bytes()
        except FileNotFoundError:
            continue
        for line in reversed(raw.splitlines()):
            if count >= limit:
                return
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("kind") == KIND:
                count += 1
                yield record


def read_lines(path: Path) -> list[dict[str, Any]]:
    """The receipts of one file, oldest first; a line that is not one is skipped."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    found = []
    for line in raw.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # torn by a kill mid-write, or edited by hand
        if isinstance(record, dict) and record.get("kind") == KIND:
            found.append(record)
    return found
