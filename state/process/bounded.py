"""Run one command with a time bound, and leave nothing of it behind when the bound passes.

The command runs in its own process group, so that on timeout (or Ctrl-C) the whole
group goes: `docker compose` is a plugin process under `docker`, and killing only the
parent would leave it running. The group gets SIGTERM first (Compose then stops
cleanly), SIGKILL after a short grace.

The project lock's descriptor is handed down to every command run while it is held
(`handed_down`): if the reconciler itself is SIGKILLed mid-command, nothing can end
the command, but it keeps holding the lock until it finishes, so the next reconcile
waits for it instead of racing it. Commands running in other threads (the concurrent
reads and start batches) are ended too when their caller is interrupted (`end_running`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress

GRACE = 2.0
_HANDED_DOWN: set[int] = set()
_RUNNING: set[int] = set()  # the process groups of the commands running now
_running_lock = threading.Lock()


@contextmanager
def handed_down(fd: int) -> Iterator[None]:
    """While inside, every command run here inherits `fd` (the lock's flock)."""
    _HANDED_DOWN.add(fd)
    try:
        yield
    finally:
        _HANDED_DOWN.discard(fd)


def run_bounded(
    args: Sequence[str], timeout: float | None, *, capture: bool = True, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `args` (fed `stdin` if given); raise subprocess.TimeoutExpired once `timeout`
    seconds have passed."""
    pipe = subprocess.PIPE if capture else None
    with subprocess.Popen(
        list(args),
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL if capture else None,
        stdout=pipe,
        stderr=pipe,
        text=True,
        errors="replace",
        start_new_session=True,
        pass_fds=tuple(sorted(_HANDED_DOWN)),
    ) as process:
        with _running_lock:
            _RUNNING.add(process.pid)
        try:
            stdout, stderr = process.communicate(stdin, timeout=timeout)
        except BaseException:  # the bound passed, or Ctrl-C: the whole group goes
            _end_group(process)
            raise
        finally:
            with _running_lock:
                _RUNNING.discard(process.pid)
        return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def run_shown(
    args: Sequence[str], timeout: float, echo: Callable[[str], None]
) -> subprocess.CompletedProcess[str]:
    """Like run_bounded, but the command's output (stdout and stderr as one stream: a
    pull's or a build's progress) goes to `echo` line by line as it comes; it is also
    handed back, as stderr, for the error message."""
    with subprocess.Popen(
        list(args),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,
        pass_fds=tuple(sorted(_HANDED_DOWN)),
    ) as process:
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            _signal_group(process, signal.SIGTERM)
            if process.poll() is None:
                threading.Timer(GRACE, _signal_group, (process, signal.SIGKILL)).start()

        timer = threading.Timer(timeout, expire)
        timer.daemon = True
        with _running_lock:
            _RUNNING.add(process.pid)
        lines: list[str] = []
        timer.start()
        try:
            assert process.stdout is not None
            for line in process.stdout:
                echo(line)
                lines.append(line)
            process.wait()
        except BaseException:  # Ctrl-C: the whole group goes
            _end_group(process)
            raise
        finally:
            timer.cancel()
            with _running_lock:
                _RUNNING.discard(process.pid)
        if expired.is_set():
            raise subprocess.TimeoutExpired(process.args, timeout)
        return subprocess.CompletedProcess(process.args, process.returncode, "", "".join(lines))


def _signal_group(process: subprocess.Popen[str], sig: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def end_running() -> None:
    """SIGTERM the group of every command still running, in any thread: whoever waited
    for them was interrupted (state/process/concurrent.py), and their threads then end at once."""
    with _running_lock:
        groups = sorted(_RUNNING)
    for group in groups:
        with suppress(ProcessLookupError):
            os.killpg(group, signal.SIGTERM)


def _end_group(process: subprocess.Popen[str]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.communicate(timeout=GRACE)
            return
        except subprocess.TimeoutExpired:
            continue
