"""Shared test settings: hypothesis profiles (ci is the default, deep runs 10x more), and
private lock, state and cache directories for every test project.

Tests leave nothing behind in the user's own directories (~/.local/state/reconcile,
$XDG_RUNTIME_DIR/reconcile): the session points RECONCILE_LOCK_DIR, RECONCILE_STATE_DIR
and RECONCILE_CACHE_DIR at a temporary directory (the integration tests' `reconcile`
and `just` processes inherit them). Where the user's directories would be, XDG_STATE_HOME
and XDG_RUNTIME_DIR point at empty stand-ins: anything that ignored the variables and
wrote to the user's defaults lands there instead, and the session fails naming it (the
real ones are shared with whatever else the user runs meanwhile, so they cannot tell)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "deep", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure() -> None:
    # `just mutants` only: break one function on purpose (RECONCILER_MUTANT), to show
    # that the properties catch it. Applied before any test module is imported.
    from tests.property.mutants import apply_selected

    apply_selected()


USERS_OWN: dict[Path, list[tuple[str, int]]] = {}


def _listing(directory: Path) -> list[tuple[str, int]]:
    """Every file under `directory` with its modification time (empty when absent)."""
    if not directory.is_dir():
        return []
    return sorted((str(p), p.stat().st_mtime_ns) for p in directory.rglob("*") if p.is_file())


def pytest_sessionstart(session: pytest.Session) -> None:
    from reconciler.store import places

    private = Path(tempfile.mkdtemp(prefix="reconcile-tests-"))
    for variable, name in zip(places.DIRECTORY_VARIABLES, ("locks", "state", "cache"), strict=True):
        os.environ[variable] = str(private / name)
    os.environ["XDG_STATE_HOME"] = str(private / "users-state-home")
    os.environ["XDG_RUNTIME_DIR"] = str(private / "users-runtime-dir")
    user = {k: v for k, v in os.environ.items() if k not in places.DIRECTORY_VARIABLES}
    for directory in {places.lock_directory(user), places.state_directory(user)}:
        USERS_OWN[directory] = _listing(directory)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    changed = sorted(str(d) for d, before in USERS_OWN.items() if _listing(d) != before)
    if changed:
        session.config.get_terminal_writer().line(
            f"tests wrote to the user's own directories: {', '.join(changed)}", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
