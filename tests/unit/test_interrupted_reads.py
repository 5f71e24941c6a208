"""An interrupt (Ctrl-C, the watch's stop signal) while concurrent engine commands run
ends those commands at once instead of waiting them out (state/process/concurrent.py with
state/process/bounded.py). Real processes; a unique `sleep` stands in for an engine command."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest

from state.process.bounded import run_bounded
from state.process.concurrent import together

MARKER = "3.14159"  # a sleep no other process on the machine runs


class Interrupted(BaseException):
    pass


@pytest.fixture
def interrupt_soon() -> Iterator[None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise Interrupted

    previous = signal.signal(signal.SIGUSR1, handler)
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGUSR1))
    timer.start()
    yield
    timer.cancel()
    signal.signal(signal.SIGUSR1, previous)


def sleeping() -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if words[:2] == [b"sleep", MARKER.encode()]:
            found.append(cmdline.parent.name)
    return found


def test_an_interrupt_ends_the_commands_still_running(interrupt_soon: None, tmp_path: Path) -> None:
    """Each command writes a file if it runs to its end: none may."""
    finished = [tmp_path / "first", tmp_path / "second"]
    with pytest.raises(Interrupted):
        together(
            *(
                lambda done=done: run_bounded(["sh", "-c", f'sleep {MARKER}; touch "{done}"'], None)
                for done in finished
            )
        )
    deadline = time.monotonic() + 10  # a bound on the check, not a timing claim
    while sleeping() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sleeping() == []
    assert [path for path in finished if path.exists()] == []
