"""A reconcile SIGKILLed in the middle of an engine command leaves the project lock
to that command until it ends: the next apply waits instead of racing an orphan.

Real processes and a real flock; `sleep` stands in for the engine command (what the
command is does not matter, only that it was started by run_bounded under the lock).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reconciler.store.lock import LockBusy, project_lock
from state.process.bounded import run_bounded

HOLDER = """
import sys
from reconciler.store.lock import project_lock
from state.process.bounded import run_bounded
with project_lock("handed", 1, endpoint="unix:///test"):
    print("held", flush=True)
    run_bounded(["sleep", sys.argv[1]], None)
"""


def test_a_killed_holder_leaves_the_lock_to_its_running_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECONCILE_LOCK_DIR", str(tmp_path / "locks"))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, "3"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "RECONCILE_LOCK_DIR": str(tmp_path / "locks")},
        cwd=Path(__file__).resolve().parents[2],
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    time.sleep(0.5)  # the command has started
    holder.send_signal(signal.SIGKILL)
    holder.wait()

    with (
        pytest.raises(LockBusy, match=r"it was killed and an engine command it started"),
        project_lock("handed", 0.2, endpoint="unix:///test"),
    ):
        pass
    with project_lock("handed", 10, endpoint="unix:///test"):  # once `sleep 3` ends
        pass


def test_commands_outside_the_lock_inherit_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECONCILE_LOCK_DIR", str(tmp_path / "locks"))
    with project_lock("handed", 1, endpoint="unix:///test2"):
        inside = run_bounded(["ls", "/proc/self/fd"], None).stdout.split()
    outside = run_bounded(["ls", "/proc/self/fd"], None).stdout.split()
    assert len(inside) == len(outside) + 1
