"""`reconcile logs` against `docker compose logs`, the oracle, on the real engine.

Without --follow ours reads the Engine API (state/docker/api_logs.py); what it prints
must be what Compose prints: the same containers (a `container_name`, replicas, a TTY;
no one-off), each one's lines in the same order after the same name, stdout and stderr
together, an unterminated last line left out by both. Compose reads the containers
at once, so only the order between containers may differ, and with it how wide the
name column is (both pad to the longest name printed so far).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.plain_stack import PlainStack, reconcile, wait_for

COMPOSE = """\
x-service: &service
  image: spot-busybox:local
  pull_policy: never
  init: true

services:
  talker:
    <<: *service
    command:
      - sh
      - -c
      - >-
        echo one; sleep 0.2; echo two >&2; sleep 0.2; echo three; printf unfinished;
        exec sleep 2147483647
  tty:
    <<: *service
    tty: true
    command: ["sh", "-c", "echo from a tty; echo second; exec sleep 2147483647"]
  named:
    <<: *service
    container_name: {name}-custom
    command: ["sh", "-c", "echo my own name; exec sleep 2147483647"]
  scaled:
    <<: *service
    scale: 2
    command: ["sh", "-c", "echo a replica; exec sleep 2147483647"]
  quiet:
    <<: *service
    command: ["sleep", "2147483647"]
"""
TABLE = 'default = "prod"\n\n[environments.prod]\ndescription = "logs"\nfiles = ["compose.yaml"]\n'
LINE = re.compile(r"^(\S+) +\| (.*)$")


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PlainStack]:
    monkeypatch.setenv("RECONCILE_LOCK_DIR", str(tmp_path / "locks"))
    name = f"spotit-logs-{uuid.uuid4().hex[:6]}"
    (tmp_path / "compose").mkdir()
    (tmp_path / "compose/compose.yaml").write_text(COMPOSE.format(name=name))
    (tmp_path / "compose/environments.toml").write_text(TABLE)
    made = PlainStack(tmp_path, "prod", name)
    try:
        applied = reconcile(made, app_env="prod")
        assert applied.returncode == 0, applied.stdout + applied.stderr
        made.compose("run", "-d", "--no-deps", "talker", "echo", "a one-off")
        assert wait_for(lambda: "a replica" in made.compose("logs", "scaled").stdout, timeout=10)
        yield made
    finally:
        made.remove_everything()


def parsed(output: str) -> dict[str, list[str]]:
    """Each container's lines, in order; every line must be `NAME<spaces>| TEXT`."""
    lines: dict[str, list[str]] = {}
    for line in output.splitlines():
        found = LINE.match(line)
        assert found, f"not a log line: {line!r}"
        lines.setdefault(found[1], []).append(found[2])
    return lines


@pytest.mark.parametrize("args", [(), ("--tail", "1"), ("talker", "tty", "--tail", "all")])
def test_logs_print_what_compose_logs_prints(stack: PlainStack, args: tuple[str, ...]) -> None:
    services = [a for a in args if not a.startswith("-") and a not in ("1", "all")]
    tail = list(args[args.index("--tail") :]) if "--tail" in args else []
    ours = reconcile(stack, "logs", *args, app_env="prod")
    theirs = stack.compose("logs", *tail, *services)
    assert ours.returncode == theirs.returncode == 0, ours.stderr
    assert parsed(ours.stdout) == parsed(theirs.stdout)
    if not args:  # what the project printed is all there, and only that
        assert parsed(ours.stdout) == {
            "talker-1": ["one", "two", "three"],
            "tty-1": ["from a tty", "second"],  # \r\n read back in text mode: \n
            f"{stack.name}-custom": ["my own name"],
            "scaled-1": ["a replica"],
            "scaled-2": ["a replica"],
        }
