"""One apply at a time per project and engine: an flock around observe -> apply.

The lock is an OS-level lock (flock), so a killed holder releases it at once and a
stale lock can never block forever. It lives in a directory only the user can write
(RECONCILE_LOCK_DIR, else $XDG_RUNTIME_DIR/reconcile, else ~/.local/state/reconcile),
checked before use, so another local user can neither pre-create the lock to block it
nor swap in a link to redirect it. Its name hashes the engine endpoint and the project:
the same project name on two engines is two locks. Beside it, a small JSON file names
the holder (pid, start time, command) so a second run that gives up can say who holds it.
Engine commands run while it is held inherit it (state/process/bounded.py): a holder killed
mid-command leaves the lock to that command until it ends, never to a second apply.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import re
import stat
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

from state.docker.endpoint import engine_endpoint
from state.errors import ReconcilerError
from state.process.bounded import handed_down

LOCK_DIR_VARIABLE = "RECONCILE_LOCK_DIR"
_POLL = 0.1
_FIX = f"set {LOCK_DIR_VARIABLE} to a directory only you can write"


class LockBusy(ReconcilerError):
    """Another reconcile holds the project's lock."""


class LockUnusable(ReconcilerError):
    """The lock cannot be taken safely: its directory or file is not the user's own."""


def lock_directory(environ: Mapping[str, str] | None = None) -> Path:
    """Where the locks live: the override, else the user's runtime or state directory."""
    env = os.environ if environ is None else environ
    if env.get(LOCK_DIR_VARIABLE):
        return Path(env[LOCK_DIR_VARIABLE])
    if env.get("XDG_RUNTIME_DIR"):
        return Path(env["XDG_RUNTIME_DIR"]) / "reconcile"
    state = env.get("XDG_STATE_HOME") or str(
        Path(env.get("HOME") or "~").expanduser() / ".local/state"
    )
    return Path(state) / "reconcile"


def lock_path(project: str, endpoint: str, directory: Path | None = None) -> Path:
    """The lock of `project` on the engine at `endpoint` (readable name, hashed key)."""
    key = hashlib.sha256(f"{endpoint}\n{project}".encode()).hexdigest()[:16]
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", project)
    return (directory or lock_directory()) / f"reconcile-{safe}-{key}.lock"


@contextmanager
def project_lock(project: str, timeout: float, *, endpoint: str | None = None) -> Iterator[None]:
    """Hold the project's lock; wait up to `timeout` seconds, then fail naming the holder."""
    path = lock_path(project, endpoint or engine_endpoint())
    private_directory(path.parent)
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


def private_directory(
    directory: Path,
    *,
    kind: str = "lock directory",
    fix: str = _FIX,
    threat: str = "block or redirect the lock",
    chmod: str = "go-w",
    error: type[ReconcilerError] = LockUnusable,
) -> Path:
    """Create `directory` (0700) or make sure an existing one is the user's alone.

    The lock's by default; the journal's and the caches' name their own `kind`, `fix`,
    what another user could do there (`threat`), the mode that mends it (`chmod`) and the
    `error` to raise."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = directory.stat()
    except OSError as exc:
        raise error(f"cannot create the {kind} {directory}: {exc.strerror}; {fix}") from None
    if info.st_uid != os.geteuid():
        raise error(
            f"{kind} {directory} belongs to uid {info.st_uid}, not to you "
            f"(uid {os.geteuid()}), who could {threat}; {fix}"
        )
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise error(
            f"{kind} {directory} is writable by others (mode "
            f"{stat.S_IMODE(info.st_mode):o}): run `chmod {chmod} {directory}` or {fix}"
        )
    return directory


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
                raise LockBusy(
                    f"another reconcile is applying project {project} ({_describe(holder)}); "
                    "wait for it to finish or raise --lock-timeout"
                ) from None
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
