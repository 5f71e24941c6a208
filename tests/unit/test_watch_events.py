"""The engine-event source (state/docker/events.py) on a stand-in `docker` executable:
it runs the right command, yields parsed events, reports a stream the engine ended,
and close() ends a running stream at once (no Docker needed)."""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path

from state.docker.events import ContainerEvent, DockerEvents, StreamLost, events_command, pump
from state.docker.run import Commands
from state.docker.timeouts import Timeouts

DIE = (
    '{"Type":"container","Action":"die","timeNano":1700000000500000000,"Actor":{"ID":"c1",'
    '"Attributes":{"name":"spot-db-1","com.docker.compose.service":"db","exitCode":"1"}}}'
)


def commands() -> Commands:
    return Commands(Timeouts.from_environment({}))


def fake_docker(tmp_path: Path, body: str) -> str:
    script = tmp_path / "docker"
    script.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/args\n{body}\n')
    script.chmod(0o755)
    return str(script)


def test_the_command_filters_on_the_project_and_the_actions_used() -> None:
    command = events_command("spot")
    assert command[:4] == ["docker", "events", "--format", "{{json .}}"]
    assert "label=com.docker.compose.project=spot" in command
    assert "event=die" in command and "event=destroy" in command
    assert not any(arg.startswith("event=exec") for arg in command)


def test_events_are_parsed_and_a_stream_the_engine_ends_is_reported(tmp_path: Path) -> None:
    docker = fake_docker(
        tmp_path, f"echo '{DIE}'\necho 'Cannot connect to the Docker daemon' >&2\nexit 1"
    )
    got: queue.Queue[ContainerEvent | StreamLost] = queue.Queue()
    stop = threading.Event()
    thread = threading.Thread(
        target=pump, args=(commands(), "spot", got.put, stop), kwargs={"docker": [docker]}
    )
    thread.start()
    first, second = got.get(timeout=10), got.get(timeout=10)
    stop.set()
    thread.join(timeout=10)
    assert first == ContainerEvent("die", "spot-db-1", "c1", "db", 1, 1700000000.5)
    assert second == StreamLost("Cannot connect to the Docker daemon")
    assert not thread.is_alive()


def test_close_ends_a_running_stream_at_once(tmp_path: Path) -> None:
    docker = fake_docker(tmp_path, f"echo '{DIE}'\nexec sleep 60")
    events = DockerEvents(commands(), "spot", [docker])
    seen: list[ContainerEvent] = []
    reader = threading.Thread(target=lambda: seen.extend(events))
    reader.start()
    deadline = time.monotonic() + 10
    while not seen and time.monotonic() < deadline:
        time.sleep(0.05)
    events.close()
    reader.join(timeout=10)  # the stand-in sleeps 60 s: only close() ends it sooner
    assert not reader.is_alive() and len(seen) == 1
