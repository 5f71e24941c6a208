"""`reconcile watch` on the real engine: it repairs a `docker stop` and a `docker rm -f`,
waits while another reconcile holds the lock, applies an `.env` edit, stops on SIGINT
(130) and SIGTERM (0), and a service that dies right after each start gets attempts on
the backoff schedule, not a restart storm (counted from the engine's own event log).

Bounds are generous (60 s per repair) and never timings: `python -m tests.bench.watch`
measures the repair time and the attempts per minute. About 80 s in all.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.store.lock import project_lock
from tests.integration.plain_stack import (
    PlainStack,
    free_ports,
    reconcile_command,
    reconcile_environment,
    unique_project_name,
    wait_for,
)

REPAIR = 60.0  # seconds: a generous bound, not a timing


class Watching:
    """A running `reconcile watch` with its merged output collected line by line."""

    def __init__(self, stack: PlainStack, *args: str) -> None:
        self.process = subprocess.Popen(
            reconcile_command(stack, "watch", *args),
            env=reconcile_environment(None),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, pattern: str, *, after: int = 0, timeout: float = REPAIR) -> int:
        """The index of the first line from `after` on that matches `pattern`."""
        found: list[int] = []

        def seen() -> bool:
            hits = [
                i for i, line in enumerate(self.lines) if i >= after and re.search(pattern, line)
            ]
            found[:] = hits[:1]
            return bool(hits)

        assert wait_for(seen, timeout=timeout), f"no line matching {pattern!r}:\n{self.text}"
        return found[0]

    def idle(self, *, after: int, timeout: float = REPAIR) -> int:
        """Wait for a pass that converged, then the re-check after it that found nothing to
        do: the watch is waiting again (a disturbance now is not folded into a pass)."""
        at = self.wait_for_line(r"^Converged: APP_ENV=", after=after, timeout=timeout)
        return self.wait_for_line(r"^No changes\.", after=at, timeout=timeout)

    def stop(self, sig: signal.Signals) -> int:
        self.process.send_signal(sig)
        code = self.process.wait(timeout=30)
        self._reader.join(timeout=5)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def container_of(stack: PlainStack, service: str) -> dict[str, object] | None:
    for c in stack.containers():
        if c["Config"]["Labels"]["com.docker.compose.service"] == service:
            return c
    return None


def running_id(stack: PlainStack, service: str) -> str | None:
    c = container_of(stack, service)
    return str(c["Id"]) if c is not None and c["State"]["Running"] else None  # type: ignore[index]


def test_watch_repairs_a_stop_and_an_rm_waits_for_the_lock_and_applies_an_env_edit(
    stack: PlainStack,
) -> None:
    watching = Watching(stack)
    try:
        first = watching.idle(after=0, timeout=120)
        assert stack.running_services() == {"db", "api-gateway", "analyzer-nlp", "analyzer-llm"}

        # docker stop: the same container is started again
        stopped = running_id(stack, "analyzer-nlp")
        subprocess.run(["docker", "stop", str(stopped)], check=True, capture_output=True)
        assert wait_for(lambda: running_id(stack, "analyzer-nlp") == stopped, timeout=REPAIR)
        at = watching.wait_for_line(r"container \S+-analyzer-nlp-1 (was stopped|died)", after=first)
        at = watching.wait_for_line(r"> start +\S+-analyzer-nlp-1 .*stopped out of band", after=at)
        at = watching.idle(after=at)

        # docker rm -f: a new container is created
        removed = running_id(stack, "api-gateway")
        subprocess.run(["docker", "rm", "-f", str(removed)], check=True, capture_output=True)
        assert wait_for(
            lambda: running_id(stack, "api-gateway") not in (None, removed), timeout=REPAIR
        )
        at = watching.wait_for_line(r"container \S+-api-gateway-1 was removed", after=at)
        at = watching.wait_for_line(r"\+ create +api-gateway +no container", after=at)
        at = watching.idle(after=at)

        # another reconcile holds the lock: the watch waits, then repairs
        with project_lock(stack.name, 0):
            gone = running_id(stack, "analyzer-llm")
            subprocess.run(["docker", "rm", "-f", str(gone)], check=True, capture_output=True)
            at = watching.wait_for_line(r"^Skipped: another reconcile is applying", after=at)
            assert container_of(stack, "analyzer-llm") is None  # nothing done meanwhile
        assert wait_for(lambda: running_id(stack, "analyzer-llm") is not None, timeout=REPAIR)
        at = watching.wait_for_line(r"\+ create +analyzer-llm +no container", after=at)
        at = watching.idle(after=at)

        # an .env edit (a published port): applied, the api answers on the new port
        (port,) = free_ports(1)
        env_file = stack.directory / ".env"
        env_file.write_text(re.sub(r"API_PORT=\d+", f"API_PORT={port}", env_file.read_text()))
        at = watching.wait_for_line(r"pass \d+: \.env changed", after=at)
        watching.wait_for_line(r"~ recreate +\S+-api-gateway-1", after=at)

        def answers() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).is_success
            except httpx.HTTPError:
                return False

        assert wait_for(answers, timeout=REPAIR)
        watching.wait_for_line(r"^Converged: APP_ENV=prod", after=at)

        assert watching.stop(signal.SIGINT) == 130
        assert re.search(r"SIGINT: stopped after \d+ pass\(es\)\.$", watching.text)
        with project_lock(stack.name, 0):
            pass  # free at once
    finally:
        watching.kill()
        print(watching.text)


STORM_TABLE = """default = "prod"
[environments.prod]
description = "one service that dies 2 s after each start"
files = ["compose.yaml"]
"""
STORM_COMPOSE = """services:
  flappy:
    image: spot-busybox:local
    pull_policy: never
    init: true
    restart: "no"
    command: ["sh", "-c", "sleep 2; exit 1"]
"""


@pytest.fixture
def storm(tmp_path: Path) -> Iterator[PlainStack]:
    (tmp_path / "compose").mkdir()
    (tmp_path / "compose/environments.toml").write_text(STORM_TABLE)
    (tmp_path / "compose/compose.yaml").write_text(STORM_COMPOSE)
    stack = PlainStack(tmp_path, "prod", unique_project_name("watch-storm"))
    try:
        yield stack
    finally:
        stack.remove_everything()


def allowed_attempts(window: float, base: float, cap: float) -> int:
    """The most attempts the backoff schedule allows in `window` seconds: each waits
    base, 2 base, 4 base... (at most cap) after the one before it."""
    attempts, spent, delay = 1, 0.0, base
    while spent + delay <= window:
        attempts, spent, delay = attempts + 1, spent + delay, min(cap, delay * 2)
    return attempts


class EngineLog:
    """The engine's start and die events of a project, recorded live by our own `docker
    events` (its history buffer is too short on a busy engine to ask afterwards)."""

    def __init__(self, project: str) -> None:
        self.process = subprocess.Popen(
            [
                "docker", "events", "--format", "{{json .}}",
                "--filter", f"label=com.docker.compose.project={project}",
                "--filter", "type=container", "--filter", "event=start", "--filter", "event=die",
            ],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.events: list[tuple[float, str]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            event = json.loads(line)
            self.events.append((time.time(), event["Action"]))

    def count(self, action: str) -> int:
        return sum(1 for _, a in self.events if a == action)

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def test_a_service_that_keeps_dying_gets_attempts_on_the_backoff_schedule(
    storm: PlainStack,
) -> None:
    window, base, cap = 25.0, 1.0, 8.0
    log = EngineLog(storm.name)
    time.sleep(1)  # the log's subscription is in place
    since = time.time()
    watching = Watching(
        storm, "--backoff", str(base), "--backoff-max", str(cap), "--wait-timeout", "10"
    )
    try:
        watching.wait_for_line(r"Backing off: .*failed ([2-9]|\d\d+) times", timeout=90)
        time.sleep(max(0.0, since + window - time.time()))
        starts, deaths = log.count("start"), log.count("die")
        spent = time.time() - since
        bound = allowed_attempts(spent, base, cap)
        print(f"{starts} starts, {deaths} deaths in {spent:.1f} s; the schedule allows {bound}")
        assert 2 <= starts <= bound  # it tries again, on the schedule: no storm
        assert deaths >= starts - 1  # each attempt died (the last may still run)
        delays = [float(d) for d in re.findall(r"\(backoff ([\d.]+) s\)", watching.text)]
        assert delays and delays == sorted(delays) and max(delays) <= cap
        assert watching.stop(signal.SIGTERM) == 0
        assert "SIGTERM: stopped after" in watching.lines[-1]
    finally:
        watching.kill()
        log.close()
        print(watching.text)


def test_watch_with_bad_input_is_one_line_and_touches_nothing(stack: PlainStack) -> None:
    (stack.directory / ".env").write_text("APP_ENV=staging\n")
    done = subprocess.run(
        reconcile_command(stack, "watch"),
        env=reconcile_environment(None),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("reconcile: ") and len(done.stderr.splitlines()) == 1
    assert "staging" in done.stderr and "Traceback" not in done.stderr
    assert stack.containers() == []


def test_watch_plan_only_shows_the_plan_and_changes_nothing(storm: PlainStack) -> None:
    watching = Watching(storm, "--plan-only")
    try:
        at = watching.wait_for_line(r"\] pass 1: watch started", timeout=90)
        watching.wait_for_line(r"^Plan: 1 to create", after=at)
        assert watching.stop(signal.SIGINT) == 130
        assert storm.containers() == []
    finally:
        watching.kill()
