"""The Docker adapter's one choke point: every `docker` and `docker compose` process.

Each call is logged, counted, bounded in time (EngineTimeout names the engine and the
fix) and its failure mapped onto TransientError / PermanentError with Docker's first
line and the fix (state/docker/errors.py). The adapter (state/docker/adapter.py) runs
its calls here, and hands this runner to what starts processes of its own: `logs`
(state/docker/logs.py) and the event stream (state/docker/events.py).
"""

from __future__ import annotations

import logging
import shlex
import subprocess
import threading
from collections.abc import Callable, Sequence

from state.docker.endpoint import engine_endpoint
from state.docker.errors import classify, first_line, fix_for
from state.docker.timeouts import TIMEOUT_VARIABLE, UNBOUNDED, Timeouts
from state.errors import EngineTimeout, PermanentError
from state.process.bounded import run_bounded, run_shown

log = logging.getLogger(__name__)


class Commands:
    """Runs engine commands: bounded, counted, logged, their failures classified."""

    def __init__(self, timeouts: Timeouts) -> None:
        self.timeouts = timeouts
        self.calls = 0  # engine calls: each `docker` process, and each Engine API read
        self.processes = 0  # of which `docker` processes
        self._counting = threading.Lock()  # the reads run in threads (state/process/concurrent.py)

    def run(
        self,
        args: Sequence[str],
        *,
        what: str,
        bound: float | None = None,
        stdin: str | None = None,
    ) -> str:
        """Run one engine call; its stdout, or the classified error with its fix."""
        completed = self.execute(args, what=what, bound=bound, stdin=stdin)
        if completed.returncode != 0:
            stderr = completed.stderr or ""
            log.debug("%s failed (%s): %s", what, completed.returncode, stderr)
            message = f"{what} failed: {first_line(stderr)}{fix_for(stderr)}"
            raise classify(stderr)(message)
        return (completed.stdout or "").removesuffix("\n")

    def execute(
        self,
        args: Sequence[str],
        *,
        what: str,
        bound: float | None = None,
        capture: bool = True,
        stdin: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run one engine call and hand back how it ended, whatever its exit code."""
        command = [str(arg) for arg in args]
        limit = self.timeouts.read if bound is None else bound
        self._count()
        log.debug("Running command (bound %g s): %s", limit, shlex.join(command))
        try:
            limit_or_none = None if limit == UNBOUNDED else limit
            return run_bounded(command, limit_or_none, capture=capture, stdin=stdin)
        except subprocess.TimeoutExpired:
            raise EngineTimeout(self.timeout_message(what, limit)) from None
        except FileNotFoundError as exc:
            raise PermanentError(missing_program(exc.filename or command[0])) from None

    def run_shown(
        self, args: Sequence[str], *, what: str, bound: float, echo: Callable[[str], None]
    ) -> subprocess.CompletedProcess[str]:
        """Run one engine call whose output is shown as it comes (`echo`, line by line: a
        pull's or a build's progress); how it ended, whatever its exit code."""
        command = [str(arg) for arg in args]
        self._count()
        log.debug("Running command, shown (bound %g s): %s", bound, shlex.join(command))
        try:
            return run_shown(command, bound, echo)
        except subprocess.TimeoutExpired:
            raise EngineTimeout(self.timeout_message(what, bound)) from None
        except FileNotFoundError as exc:
            raise PermanentError(missing_program(exc.filename or command[0])) from None

    def stream(
        self, args: Sequence[str], *, stderr: bool = False, own_session: bool = False
    ) -> subprocess.Popen[str]:
        """Start a call whose output is read as it comes (`logs --follow`, `events`): not
        bounded, it runs until it ends or its reader closes it."""
        command = [str(arg) for arg in args]
        self._count()
        log.debug("Running command (unbounded): %s", shlex.join(command))
        try:
            return subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE if stderr else None,
                text=True,
                errors="replace",
                start_new_session=own_session,  # a Ctrl-C on the terminal is the caller's
            )
        except FileNotFoundError as exc:
            raise PermanentError(missing_program(exc.filename or command[0])) from None

    def timeout_message(self, what: str, limit: float) -> str:
        return (
            f"{what}: no answer from the Docker engine at {engine_endpoint()} within "
            f"{limit:g} s; check that it responds (`docker info`; `just engine` starts it), "
            f"or raise {TIMEOUT_VARIABLE} (seconds for a read, now {self.timeouts.read:g})"
        )

    def count_read(self) -> None:
        """One engine call made over the Engine API (state/docker/api.py), not a process."""
        with self._counting:
            self.calls += 1

    def _count(self) -> None:
        with self._counting:
            self.calls += 1
            self.processes += 1


def missing_program(program: str) -> str:
    """A program the call needs is not on PATH: name it and where to get it."""
    name = program.rsplit("/", 1)[-1]
    if name == "env":  # python-on-whales runs `env VAR=value docker ...`
        return "env not found on PATH (it comes with coreutils): fix PATH to include /usr/bin"
    return (
        f"{name} not found on PATH: install Docker and its Compose v2 plugin "
        "(https://docs.docker.com/engine/install/; in the spot-reconciler repository: "
        "`just engine`), or fix PATH"
    )
