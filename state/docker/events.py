"""Engine events of one project (observe stage, streamed): what `reconcile watch` reacts to.

Runs `docker events --format '{{json .}}' --filter type=container --filter
label=com.docker.compose.project=NAME` as a subprocess and yields each container event
as a ContainerEvent (die, stop, kill, oom, destroy, pause, create, start, rename; exec
and health-status events are dropped: they change nothing the planner looks at).
`pump()` keeps a stream going (a new subprocess when the engine dropped the old one)
and hands events on until told to stop; `close()` ends the subprocess from any thread.
Read-only: nothing here changes the engine.
"""

from __future__ import annotations

import json
import logging
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from state.docker.run import Commands

log = logging.getLogger(__name__)

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
ACTIONS = frozenset({"die", "stop", "kill", "oom", "destroy", "pause", "create", "start", "rename"})
RESTART_DELAY = 2.0  # seconds before a dropped event stream is started again
_GRACE = 2.0
_SHORT_LIVED = 10.0  # a stream that ended sooner than this: the engine is likely down
_MAX_RESTART_DELAY = 60.0


@dataclass(frozen=True)
class ContainerEvent:
    """One change of one container of the project, as the engine reported it."""

    action: str
    container: str
    container_id: str
    service: str | None = None
    exit_code: int | None = None
    time: float = 0.0  # when the engine saw it (seconds since the epoch; 0: unknown)


@dataclass(frozen=True)
class StreamLost:
    """The event stream ended on its own (the engine restarted?): events may be missed."""

    reason: str


def parse_event(line: str) -> ContainerEvent | None:
    """A line of `docker events --format '{{json .}}'`, or None when it is not one we use."""
    try:
        raw: dict[str, Any] = json.loads(line)
    except ValueError:
        return None
    if not isinstance(raw, dict) or raw.get("Type", "container") != "container":
        return None
    action = str(raw.get("Action") or raw.get("status") or "")
    if action not in ACTIONS:
        return None
    actor = raw.get("Actor") or {}
    attributes = actor.get("Attributes") or {}
    container_id = str(actor.get("ID") or raw.get("id") or "")
    code = attributes.get("exitCode")
    nanos = raw.get("timeNano")
    return ContainerEvent(
        action=action,
        container=str(attributes.get("name") or container_id[:12]),
        container_id=container_id,
        service=attributes.get(SERVICE_LABEL),
        exit_code=int(code) if isinstance(code, str) and code.lstrip("-").isdigit() else None,
        time=nanos / 1e9 if isinstance(nanos, int) else float(raw.get("time") or 0),
    )


def events_command(project: str, docker: Sequence[str] = ("docker",)) -> list[str]:
    """The engine filters: this project's containers, only the actions we use (the
    healthchecks' exec events alone would be several a second)."""
    filters = ["type=container", f"label={PROJECT_LABEL}={project}"]
    filters += [f"event={action}" for action in sorted(ACTIONS)]
    return [*docker, "events", "--format", "{{json .}}"] + [
        arg for f in filters for arg in ("--filter", f)
    ]


class DockerEvents:
    """One `docker events` subprocess for one project; iterate it for its events."""

    def __init__(
        self, commands: Commands, project: str, docker: Sequence[str] = ("docker",)
    ) -> None:
        self.project = project
        self._commands = commands
        self._command = events_command(project, docker)
        self._process: subprocess.Popen[str] | None = None
        self._closed = threading.Event()
        self.stderr = ""

    def __iter__(self) -> Iterator[ContainerEvent]:
        if self._closed.is_set():
            return
        # Its own session: a Ctrl-C on the terminal is the watch's to handle.
        self._process = self._commands.stream(self._command, stderr=True, own_session=True)
        assert self._process.stdout is not None
        for line in self._process.stdout:
            event = parse_event(line)
            if event is not None:
                yield event
        self._process.wait()
        if self._process.stderr is not None:
            self.stderr = self._process.stderr.read().strip()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def close(self) -> None:
        """End the subprocess (SIGTERM, then SIGKILL): the iteration then ends."""
        self._closed.set()
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=_GRACE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def pump(
    commands: Commands,
    project: str,
    put: Callable[[ContainerEvent | StreamLost], None],
    stop: threading.Event,
    *,
    docker: Sequence[str] = ("docker",),
    started: Callable[[DockerEvents], None] = lambda events: None,
) -> None:
    """Hand `project`'s events to `put` until `stop` is set; a stream the engine ends is
    reported (StreamLost) and started again after RESTART_DELAY seconds, doubling (up to
    a minute) while each new stream ends within seconds (the engine is down)."""
    delay = RESTART_DELAY
    while not stop.is_set():
        events = DockerEvents(commands, project, docker)
        started(events)
        began = time.monotonic()
        for event in events:
            put(event)
        if stop.is_set() or events.closed:
            return
        reason = events.stderr.splitlines()[-1] if events.stderr else "the stream ended"
        log.debug("docker events for %s ended: %s", project, reason)
        put(StreamLost(reason))
        lived = time.monotonic() - began
        delay = RESTART_DELAY if lived > _SHORT_LIVED else min(_MAX_RESTART_DELAY, delay * 2)
        stop.wait(delay)
