"""Every engine call has a time bound: a daemon that stops answering cannot hang us.

Two fake daemons on unix sockets: one accepts connections and never answers; the
other passes everything through to the real engine except the container listing,
which it leaves unanswered (a daemon that hangs in the middle of a run, while the
reconciler holds the project lock). Either way `reconcile` must fail within the bound
with one line naming the engine and the fix, exit 1, and leave the lock free.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from reconciler.store.lock import LockBusy, project_lock
from reconciler.store.places import LOCK_DIR_VARIABLE
from state.docker.endpoint import engine_endpoint
from state.docker.timeouts import TIMEOUT_VARIABLE
from tests.integration.fake_daemon import FakeDaemon
from tests.integration.plain_stack import (
    REPO,
    PlainStack,
    reconcile_command,
    reconcile_environment,
)

BOUND = 2.0


def start(
    stack: PlainStack, daemon: FakeDaemon, lock_dir: Path, *args: str
) -> subprocess.Popen[str]:
    env = reconcile_environment("prod")
    env.update({"DOCKER_HOST": daemon.url, TIMEOUT_VARIABLE: str(BOUND)})
    env[LOCK_DIR_VARIABLE] = str(lock_dir)
    return subprocess.Popen(
        reconcile_command(stack, *args),
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def assert_one_line_naming_the_engine(stderr: str, daemon: FakeDaemon) -> None:
    assert stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr
    assert f"no answer from the Docker engine at {daemon.url} within {BOUND:g} s" in stderr
    assert "`just engine`" in stderr
    assert TIMEOUT_VARIABLE in stderr


def test_a_daemon_that_never_answers_fails_within_the_bound(
    stack: PlainStack, tmp_path: Path
) -> None:
    daemon = FakeDaemon(tmp_path / "silent.sock")
    started = time.monotonic()
    run = start(stack, daemon, tmp_path / "locks", "status")
    try:
        _, stderr = run.communicate(timeout=60)
        elapsed = time.monotonic() - started
    finally:
        run.kill()
        daemon.close()
    assert run.returncode == 1, stderr
    assert_one_line_naming_the_engine(stderr, daemon)
    # The bound plus start-up (imports, `compose config`), generous for a loaded machine.
    assert elapsed < BOUND + 20, f"took {elapsed:.1f} s with a bound of {BOUND} s"


def test_a_daemon_that_hangs_mid_apply_fails_and_frees_the_lock(
    stack: PlainStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    upstream = engine_endpoint().removeprefix("unix://")
    daemon = FakeDaemon(tmp_path / "stalling.sock", upstream, stall=b"/containers/json")
    lock_dir = tmp_path / "locks"
    monkeypatch.setenv(LOCK_DIR_VARIABLE, str(lock_dir))
    run = start(stack, daemon, lock_dir)
    try:
        assert daemon.stalled.wait(60), "reconcile never listed containers"
        # The hang happens while the lock is held.
        with pytest.raises(LockBusy), project_lock(stack.name, 0, endpoint=daemon.url):
            pass  # the listing ran without the project lock
        _, stderr = run.communicate(timeout=BOUND + 30)
    finally:
        run.kill()
        daemon.close()
    assert run.returncode == 1, stderr
    assert_one_line_naming_the_engine(stderr, daemon)
    assert "docker container ls" in stderr
    with project_lock(stack.name, 0, endpoint=daemon.url):
        pass
