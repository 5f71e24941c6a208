"""The project lock, across real processes: a second run fails naming the holder, and
a killed holder never blocks."""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
import os
import time
from pathlib import Path

import pytest

from reconciler.lock import LockBusy, project_lock


def _hold_lock(directory: str, ready: multiprocessing.synchronize.Event, seconds: float) -> None:
    os.environ["RECONCILE_LOCK_DIR"] = directory
    with project_lock("demo", timeout=1):
        ready.set()
        time.sleep(seconds)


def test_second_run_fails_naming_the_holder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECONCILE_LOCK_DIR", str(tmp_path))
    ready = multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold_lock, args=(str(tmp_path), ready, 5))
    holder.start()
    try:
        assert ready.wait(10)
        with (
            pytest.raises(
                LockBusy, match=rf"project demo \(pid {holder.pid}, started .*--lock-timeout"
            ),
            project_lock("demo", timeout=0.2),
        ):
            pass
    finally:
        holder.kill()
        holder.join()


def test_a_killed_holder_never_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECONCILE_LOCK_DIR", str(tmp_path))
    ready = multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold_lock, args=(str(tmp_path), ready, 60))
    holder.start()
    assert ready.wait(10)
    holder.kill()  # SIGKILL: no cleanup ran
    holder.join()
    with project_lock("demo", timeout=2):
        pass
