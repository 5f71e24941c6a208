"""The Swarm adapter's one choke point: every `docker -H MANAGER` call.

Each call is logged, counted and bounded in time (EngineTimeout names the manager and
how to check it); a manager that does not answer is a TransientError naming
`just swarm-up` and SWARM_MANAGER_HOST, one that is not a manager a PermanentError,
and any other failure is classified as the Docker adapter's are (state/docker/errors.py).
"""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
import sys
from collections.abc import Sequence

from state.docker.errors import classify, first_line
from state.docker.timeouts import UNBOUNDED, Timeouts
from state.errors import EngineTimeout, PermanentError, TransientError
from state.process.bounded import run_bounded
from state.swarm.address import DEFAULT_MANAGER, MANAGER_VARIABLE

log = logging.getLogger(__name__)


class Manager:
    """Runs docker commands on the swarm's manager: bounded, counted, classified."""

    def __init__(self, timeouts: Timeouts) -> None:
        self.host = os.environ.get(MANAGER_VARIABLE) or DEFAULT_MANAGER
        self.timeouts = timeouts
        self.calls = 0

    def command(self, *args: str) -> list[str]:
        return ["docker", "-H", self.host, *args]

    def run(self, *args: str, what: str, bound: float | None = None) -> str:
        """Run one call on the manager; its stdout, or the classified error with its fix."""
        command = self.command(*args)
        limit = self.timeouts.read if bound is None else bound
        self.calls += 1
        log.debug("Running command (bound %g s): %s", limit, shlex.join(command))
        try:
            done = run_bounded(command, None if limit == UNBOUNDED else limit)
        except subprocess.TimeoutExpired:
            raise EngineTimeout(
                f"{what}: no answer from the swarm manager at {self.host} within {limit:g} s; "
                f"check it with `docker -H {self.host} node ls`"
            ) from None
        except FileNotFoundError:
            raise PermanentError(f"{what}: no docker client on PATH (`just engine`)") from None
        if done.returncode != 0:
            raise self._failure(what, done.returncode, done.stderr or "")
        return (done.stdout or "").removesuffix("\n")

    def _failure(self, what: str, code: int, stderr: str) -> Exception:
        log.debug("%s failed (%s): %s", what, code, stderr)
        if "cannot connect to the docker daemon" in stderr.lower():
            return TransientError(
                f"{what} failed: no swarm manager answers at {self.host}: run `just swarm-up`, "
                f"or set {MANAGER_VARIABLE} to your manager"
            )
        if "this node is not a swarm manager" in stderr.lower():
            return PermanentError(
                f"{what} failed: the engine at {self.host} is not a swarm manager: "
                f"set {MANAGER_VARIABLE} to a manager's address"
            )
        return classify(stderr)(f"{what} failed: {first_line(stderr)}")

    def stream_logs(self, services: Sequence[str], *, follow: bool, tail: str | None) -> int:
        """Each service's `docker service logs` (it takes one service), through this
        process's stdout, which the CLI masks; the first non-zero exit code, else 0."""
        code = 0
        for name in services:
            flags = [*(["--follow"] if follow else []), *(["--tail", tail] if tail else [])]
            command = self.command("service", "logs", *flags, name)
            self.calls += 1
            log.debug("Running command (unbounded): %s", shlex.join(command))
            with subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                errors="replace",
            ) as streamed:  # fmt: skip
                assert streamed.stdout is not None
                for line in streamed.stdout:
                    sys.stdout.write(line)
                    sys.stdout.flush()
            code = code or streamed.returncode
        return code
