"""Reliability: the engine goes away in the middle of an apply and comes back.

The machine's Docker daemon is shared, so these tests never restart it. They own the
engine endpoint instead: `reconcile` talks to a FakeDaemon that passes everything
through to the real engine until the apply creates api-gateway (the second wave),
then drops every connection and refuses new ones for a while, which is what a client
sees while a daemon restarts. A short outage is ridden out by the retries; a long one
ends the run with one clear line. Either way the next run converges.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.store.places import LOCK_DIR_VARIABLE
from state.docker.endpoint import engine_endpoint
from tests.integration.fake_daemon import FakeDaemon
from tests.integration.plain_stack import (
    REPO,
    PlainStack,
    reconcile,
    reconcile_command,
    reconcile_environment,
)


@pytest.fixture
def daemon(stack: PlainStack, tmp_path: Path) -> Iterator[FakeDaemon]:
    fake = FakeDaemon(tmp_path / "engine.sock", engine_endpoint().removeprefix("unix://"))
    try:
        yield fake
    finally:
        fake.close()


def reconcile_through(
    daemon: FakeDaemon, stack: PlainStack, tmp_path: Path, *flags: str, timeout: float = 400
) -> subprocess.CompletedProcess[str]:
    env = reconcile_environment("prod")
    env.update({"DOCKER_HOST": daemon.url, LOCK_DIR_VARIABLE: str(tmp_path / "locks")})
    return subprocess.run(
        reconcile_command(stack, "--wait-timeout", "180", *flags),
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def second_wave(stack: PlainStack) -> bytes:
    return f"/containers/create?name={stack.name}-api-gateway-1".encode()


def assert_the_next_run_converges(stack: PlainStack) -> None:
    again = reconcile(stack, app_env="prod")
    assert again.returncode == 0, again.stdout + again.stderr
    plan = reconcile(stack, "--plan", app_env="prod")
    assert plan.returncode == 0, plan.stdout + plan.stderr


def test_a_short_outage_mid_apply_is_ridden_out_by_retries(
    stack: PlainStack, daemon: FakeDaemon, tmp_path: Path
) -> None:
    daemon.outage_on(second_wave(stack), seconds=1.0)
    result = reconcile_through(daemon, stack, tmp_path, "-v")  # -v shows each retry
    assert daemon.outage_started.is_set(), "the apply never reached the second wave"
    assert result.returncode == 0, result.stdout + result.stderr
    assert "transient engine error" in result.stderr
    assert "Converged" in result.stdout
    assert_the_next_run_converges(stack)


def test_a_long_outage_mid_apply_fails_in_one_clear_line(
    stack: PlainStack, daemon: FakeDaemon, tmp_path: Path
) -> None:
    # The daemon stays away until the run has ended: bounded retries end it by
    # themselves (about 10 s of back-off in all); unbounded ones would run into the
    # timeout below. A fixed-length outage raced the run on a loaded machine.
    daemon.outage_on(second_wave(stack), seconds=600.0)
    started = time.monotonic()
    try:
        result = reconcile_through(daemon, stack, tmp_path, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("the run outlasted 120 s of outage: retries unbounded?")
    finally:
        daemon.end_outage()
    took = f"(the run took {time.monotonic() - started:.1f} s)"
    assert daemon.outage_started.is_set(), f"the apply never reached the second wave {took}"
    assert result.returncode == 1, f"{took}\n{result.stdout}{result.stderr}"
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # the retries are logged only with -v
    last = lines[0]
    assert last.startswith("reconcile: "), result.stderr
    assert f"Cannot connect to the Docker daemon at {daemon.url}" in last
    assert "Start it (in the spot-reconciler repository: `just engine`;" in last
    assert_the_next_run_converges(stack)
