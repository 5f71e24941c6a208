"""Where the tool keeps its files: every directory, the variable that moves it, and the
one check that makes it safe to use (store stage: what a later run reads back).

- locks: RECONCILE_LOCK_DIR, else $XDG_RUNTIME_DIR/reconcile, else
  $XDG_STATE_HOME/reconcile (~/.local/state/reconcile): one lock per project and engine;
- state (the journal, its rollback records, the history): RECONCILE_STATE_DIR, else
  `state/` in RECONCILE_LOCK_DIR when that is set, else $XDG_STATE_HOME/reconcile;
  one directory per project and engine, named as its lock is;
- cache (`compose-cache/`: what `docker compose config` answered; `content/`: the
  content stage's override files; `tables/`: validated environment tables):
  RECONCILE_CACHE_DIR, else the lock directory; RECONCILE_NO_CACHE=1 turns off the
  two caches (compose-cache, tables).
Each directory must be the user's alone (created 0700; refused when another user owns
it or may write it): another local user could otherwise block or redirect the lock,
or read and replace what the tool reads back. The files in them are written whole
(reconciler/store/atomic.py), each with the mode and durability its kind needs.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path

from state.errors import ReconcilerError

LOCK_DIR_VARIABLE = "RECONCILE_LOCK_DIR"
STATE_DIR_VARIABLE = "RECONCILE_STATE_DIR"
CACHE_DIR_VARIABLE = "RECONCILE_CACHE_DIR"
NO_CACHE_VARIABLE = "RECONCILE_NO_CACHE"
DIRECTORY_VARIABLES = (LOCK_DIR_VARIABLE, STATE_DIR_VARIABLE, CACHE_DIR_VARIABLE)


class UnsafeDirectory(ReconcilerError):
    """A directory the tool keeps files in cannot be used safely."""


def _env(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def _state_home(env: Mapping[str, str]) -> Path:
    home = env.get("XDG_STATE_HOME") or str(
        Path(env.get("HOME") or "~").expanduser() / ".local/state"
    )
    return Path(home) / "reconcile"


def lock_directory(environ: Mapping[str, str] | None = None) -> Path:
    """Where the locks live: the override, else the user's runtime or state directory."""
    env = _env(environ)
    if env.get(LOCK_DIR_VARIABLE):
        return Path(env[LOCK_DIR_VARIABLE])
    if env.get("XDG_RUNTIME_DIR"):
        return Path(env["XDG_RUNTIME_DIR"]) / "reconcile"
    return _state_home(env)


def state_directory(environ: Mapping[str, str] | None = None) -> Path:
    """Where the journals (and the history) live."""
    env = _env(environ)
    if env.get(STATE_DIR_VARIABLE):
        return Path(env[STATE_DIR_VARIABLE])
    if env.get(LOCK_DIR_VARIABLE):
        return Path(env[LOCK_DIR_VARIABLE]) / "state"
    return _state_home(env)


def cache_directory(environ: Mapping[str, str] | None = None) -> Path:
    """The cache root: RECONCILE_CACHE_DIR, else beside the locks."""
    env = _env(environ)
    if env.get(CACHE_DIR_VARIABLE):
        return Path(env[CACHE_DIR_VARIABLE])
    return lock_directory(env)


def compose_cache_directory(environ: Mapping[str, str] | None = None) -> Path:
    return cache_directory(environ) / "compose-cache"


def table_cache_directory(environ: Mapping[str, str] | None = None) -> Path:
    return cache_directory(environ) / "tables"


def content_directory(environ: Mapping[str, str] | None = None) -> Path:
    return cache_directory(environ) / "content"


def project_stem(project: str, endpoint: str) -> str:
    """The file name stem of a project on an engine (readable name, hashed key): the same
    project name on two engines is two locks and two state directories."""
    key = hashlib.sha256(f"{endpoint}\n{project}".encode()).hexdigest()[:16]
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", project)
    return f"reconcile-{safe}-{key}"


def lock_path(project: str, endpoint: str, directory: Path | None = None) -> Path:
    """The lock of `project` on the engine at `endpoint`."""
    return (directory or lock_directory()) / f"{project_stem(project, endpoint)}.lock"


def project_state_directory(
    project: str, endpoint: str, environ: Mapping[str, str] | None = None
) -> Path:
    """The project's own state directory on that engine (its journal, its history)."""
    return state_directory(environ) / f"{project_stem(project, endpoint)}.state"


def private_directory(
    directory: Path,
    *,
    kind: str,
    variable: str,
    threat: str,
    chmod: str = "700",
    error: type[ReconcilerError] = UnsafeDirectory,
) -> Path:
    """Create `directory` (0700) or make sure an existing one is the user's alone.

    `kind` names it in messages, `variable` is the setting that moves it, `threat` what
    another user could do there, `chmod` the mode that mends it, `error` what to raise."""
    fix = f"set {variable} to a directory only you can write"
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


def caching_off(environ: Mapping[str, str]) -> bool:
    """RECONCILE_NO_CACHE set (to anything but 0): every cache reads afresh."""
    return environ.get(NO_CACHE_VARIABLE, "") not in ("", "0")


def private_cache(directory: Path, environ: Mapping[str, str], threat: str) -> Path | None:
    """`directory` for a cache's entries, when caching is on and it is the user's alone
    (made so if new); None otherwise, and the caller reads afresh: a cache never fails
    a command. `threat`: what another user could do with entries put there."""
    if caching_off(environ):
        return None
    try:
        return private_directory(
            directory, kind="cache directory", variable=CACHE_DIR_VARIABLE, threat=threat
        )
    except ReconcilerError:
        return None
