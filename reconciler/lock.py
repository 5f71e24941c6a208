"""One apply at a time per project: a file lock (filelock) around observe -> apply.

The lock is an OS-level lock (flock), so a killed holder releases it at once and a
stale lock can never block forever. Beside it, a small JSON file names the holder
(pid, start time, command) so a second run that gives up can say who holds it.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from state.errors import ReconcilerError

LOCK_DIR_VARIABLE = "RECONCILE_LOCK_DIR"


class LockBusy(ReconcilerError):
    """Another reconcile holds the project's lock."""


def lock_path(project: str) -> Path:
    directory = Path(os.environ.get(LOCK_DIR_VARIABLE) or tempfile.gettempdir())
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", project)
    return directory / f"reconcile-{safe}.lock"


@contextmanager
def project_lock(project: str, timeout: float) -> Iterator[None]:
    """Hold the project's lock; wait up to `timeout` seconds, then fail naming the holder."""
    path = lock_path(project)
    path.parent.mkdir(parents=True, exist_ok=True)
    holder = path.with_suffix(".holder")
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        raise LockBusy(
            f"another reconcile is applying project {project} ({_describe(holder)}); "
            "wait for it to finish or raise --lock-timeout"
        ) from None
    try:
        holder.write_text(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                    "command": " ".join(["reconcile", *sys.argv[1:]]),
                }
            )
        )
        yield
    finally:
        holder.unlink(missing_ok=True)
        lock.release()


def _describe(holder: Path) -> str:
    try:
        info = json.loads(holder.read_text())
        return f"pid {info['pid']}, started {info['started']}: {info['command']}"
    except (OSError, ValueError, KeyError):
        return "holder unknown"
