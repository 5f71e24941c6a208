"""One apply at a time per project and engine: an flock around observe -> apply.

The lock is an OS-level lock (flock), so a killed holder releases it at once and a stale
lock can never block forever. It lives in a directory only the user can write
(reconciler/store/places.py), checked before use, so another local user can neither
pre-create the lock to block it nor swap in a link to redirect it. Its name hashes the
engine endpoint and the project: the same project name on two engines is two locks.
Beside it, a small JSON file names the holder (pid, start time, command) so a second run
that gives up can say who holds it. Engine commands run while it is held inherit it
(state/process/bounded.py): a holder killed mid-command leaves the lock to that command
until it ends, never to a second apply.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from reconciler.store.places import LOCK_DIR_VARIABLE, lock_path, private_directory
from state.docker.endpoint import engine_endpoint
from state.errors import ReconcilerError
from state.process.bounded import handed_down

_POLL = 0.1
_FIX = f"set {LOCK_DIR_VARIABLE} to a directory only you can write"


class LockBusy(ReconcilerError):
    """Another reconcile holds the project's lock (`holder`: who, as far as is known)."""

    def __init__(self, project: str, holder: str) -> None:
        self.project = project
        self.holder = holder
        super().__init__(f"{self.who}; wait for it to finish or raise --lock-timeout")

    @property
    def who(self) -> str:
        return f"another reconcile is applying project {self.project} ({self.holder})"


class LockUnusable(ReconcilerError):
    """The lock cannot be taken safely: its directory or file is not the user's own."""


@contextmanager
def project_lock(project: str, timeout: float, *, endpoint: str | None = None) -> Iterator[None]:
    """Hold the project's lock; wait up to `timeout` seconds, then fail naming the holder."""
    path = lock_path(project, endpoint or engine_endpoint())
    private_directory(
        path.parent,
        kind="lock directory",
        variable=LOCK_DIR_VARIABLE,
        threat="block or redirect the lock",
        chmod="go-w",
        error=LockUnusable,
    )
    holder = path.with_suffix(".holder")
    fd = _open_own(path)
    try:
        _acquire(fd, timeout, project, holder)
        try:
            _write_holder(holder)
            with handed_down(fd):
                yield
        finally:
            with suppress(OSError):
                holder.unlink(missing_ok=True)
    finally:
        os.close(fd)  # releases the flock


def _open_own(path: Path) -> int:
    """Open (create) the lock file, refusing a link or a file another user owns."""
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        what = "it is a symbolic link" if exc.errno == errno.ELOOP else exc.strerror
        raise LockUnusable(
            f"cannot open the lock file {path}: {what}; remove it if no reconcile "
            f"is running, or {_FIX}"
        ) from None
    owner = os.fstat(fd).st_uid
    if owner != os.geteuid():
        os.close(fd)
        raise LockUnusable(
            f"lock file {path} belongs to uid {owner}, not to you: remove it if no "
            f"reconcile is running, or {_FIX}"
        )
    return fd


def _acquire(fd: int, timeout: float, project: str, holder: Path) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise LockBusy(project, _describe(holder)) from None
            time.sleep(_POLL)


def _write_holder(holder: Path) -> None:
    info = {
        "pid": os.getpid(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "command": " ".join(["reconcile", *sys.argv[1:]]),
    }
    with suppress(OSError):  # only a courtesy for whoever waits: the flock excludes
        holder.write_text(json.dumps(info))


def _describe(holder: Path) -> str:
    try:
        info = json.loads(holder.read_text())
        described = f"pid {info['pid']}, started {info['started']}: {info['command']}"
        pid = int(info["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return "holder unknown"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return f"{described}; it was killed and an engine command it started is finishing"
    except OSError:
        pass  # alive, but another user's: described as is
    return described
