"""Notifications (reconciler/notify/hook.py) through the commands, on the in-memory engine:
each kind of event reaches the notifier once, and a failing or hanging notifier costs one
warning line, never the apply."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest

from reconciler.notify import hook
from reconciler.reads.backend import Kits
from reconciler.reads.opened import Opened, ProjectOptions
from reconciler.store import history, places
from reconciler.watch.feed import PipelinePasses
from reconciler.watch.loop import Kind
from state import secrets
from state.model.desired import DesiredState
from tests.unit.test_rollback import BAD, BROKEN_HASH, GOOD, Sick, apply, opened, settings


@pytest.fixture(autouse=True)
def private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("RECONCILE_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.setenv(places.STATE_DIR_VARIABLE, str(tmp_path / "state"))
    yield


def capture(path: Path) -> tuple[str, ...]:
    """A notifier that appends what it reads on stdin to `path`."""
    code = "import sys; open(sys.argv[1], 'a').write(sys.stdin.read())"
    return (sys.executable, "-c", code, str(path))


def payloads(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_each_kind_of_event_reaches_the_notifier_once(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    notify = capture(out)
    world = Sick(GOOD)
    assert apply(world, GOOD, notify=notify)[0] is None  # applied
    world.sick.add(BROKEN_HASH)
    error, _ = apply(world, BAD, notify=notify)  # rolled back to GOOD
    assert error is not None and error.startswith("rolled back: api")
    error, _ = apply(world, BAD, notify=notify, rollback=False)  # failed, left as it failed
    assert error is not None and error.startswith("apply failed")
    assert apply(world, GOOD, notify=notify, command="watch")[0] is None  # a watch pass
    events = payloads(out)
    assert [e["event"] for e in events] == [
        "applied",
        "rolled_back",
        "failed",
        "drift_found",
        "drift_repaired",
    ]
    assert {e["kind"] for e in events} == {hook.KIND} and {e["project"] for e in events} == {"spot"}
    applied, rolled, failed, found, repaired = events
    assert applied["result"] == "converged" and applied["actions"]
    assert rolled["result"] == "rolled back" and "api" in str(rolled["error"])
    assert failed["result"] == "failed"
    assert [a["service"] for a in found["actions"]] == ["api"]
    assert repaired["command"] == "watch" and repaired["plan_digest"] == found["plan_digest"]
    # each event's receipt is the history's (newest first there)
    kept = history.receipts("spot")
    assert [r["plan_digest"] for r in kept[:2]] == [repaired["plan_digest"], failed["plan_digest"]]


def test_a_hanging_notifier_is_killed_and_the_apply_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(hook.TIMEOUT_VARIABLE, "0.5")
    pid_file = tmp_path / "pid"
    notify = ("sh", "-c", f"echo $$ > {pid_file}; exec sleep 3600")
    error, said = apply(Sick(GOOD), GOOD, notify=notify)
    assert error is None
    warnings = [line for line in said if line.startswith("warning: notifier")]
    assert len(warnings) == 1 and "still ran after 0.5 s: killed" in warnings[0]
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # gone, not left behind
    assert history.receipts("spot")[0]["result"] == "converged"


@pytest.mark.parametrize(
    ("notify", "expected"),
    [
        (
            ("sh", "-c", "cat >/dev/null; echo 'webhook said 500' >&2; exit 3"),
            "exited with code 3: webhook said 500",
        ),
        (("/nonexistent/notifier",), "did not start"),
        (("sh", "-c", "exec 0<&-; exit 0"), None),  # closes stdin unread: fine
    ],
)
def test_a_failing_notifier_is_one_warning_line(
    notify: tuple[str, ...], expected: str | None
) -> None:
    error, said = apply(Sick(GOOD), GOOD, notify=notify)
    assert error is None
    warnings = [line for line in said if line.startswith("warning: notifier")]
    if expected is None:
        assert warnings == []
    else:
        assert len(warnings) == 1 and expected in warnings[0]


def test_the_event_masks_secrets(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    secrets.forget_all()
    secrets.remember({"API_TOKEN": "tok-very-secret-1"})
    try:
        hook.send(capture(out), hook.event("failed", "spot", {"error": "tok-very-secret-1"}), print)
    finally:
        secrets.forget_all()
    assert "tok-very" not in out.read_text() and secrets.MASK in out.read_text()


def test_the_command_is_split_as_a_shell_would_and_run_without_one() -> None:
    assert hook.command_of("curl -sS -d @- 'https://hooks.example/x y'") == (
        "curl",
        "-sS",
        "-d",
        "@-",
        "https://hooks.example/x y",
    )


@dataclass
class Previewing(PipelinePasses):
    """The watch's passes on the in-memory world instead of a project on disk."""

    world: Sick = field(default_factory=lambda: Sick(GOOD))
    wanted: DesiredState = GOOD

    def _open(self) -> Opened:
        self.world.desired = self.wanted
        return opened(self.world, self.wanted)


def test_a_plan_only_watch_tells_each_drift_once(tmp_path: Path) -> None:
    """`watch --plan-only` previews on every poll: the notifier hears of a drift when it
    appears, not on every poll, and again only once it came back after converging."""
    out = tmp_path / "events.jsonl"
    world = Sick(GOOD)
    assert apply(world, GOOD)[0] is None
    passes = Previewing(
        ProjectOptions(),
        cast(Kits, None),
        settings(notify=capture(out)),
        say=lambda _line: None,
        on_project=lambda _project, _desired: None,
        world=world,
        wanted=BAD,
    )
    assert [passes.preview().kind for _ in range(3)] == [Kind.PENDING] * 3
    assert [e["event"] for e in payloads(out)] == ["drift_found"]
    assert apply(world, BAD)[0] is None  # repaired by someone else
    assert passes.preview().kind is Kind.CONVERGED
    assert apply(world, GOOD)[0] is None  # and drifted again
    assert passes.preview().kind is Kind.PENDING
    found = payloads(out)
    assert [e["event"] for e in found] == ["drift_found", "drift_found"]
    assert [a["service"] for a in found[-1]["actions"]] == ["api"]
