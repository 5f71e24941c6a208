"""The watch's decisions (reconciler/watch/loop.py) on a scripted clock: debounce, backoff,
its reset, the flapping plan, a busy lock, the echo of its own passes, and a clean stop
on SIGINT and SIGTERM with the project's lock free afterwards. The real engine and the
real `reconcile watch` are in tests/integration/test_watch.py."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.store.lock import project_lock
from reconciler.watch.feed import serve
from reconciler.watch.inputs import InputChanged
from reconciler.watch.loop import (
    Attempts,
    Kind,
    PlanKey,
    Result,
    Timing,
    Trigger,
    Watch,
    backoff_delay,
    debounce_wait,
    settled,
)
from reconciler.watch.words import describe
from state.docker.events import ContainerEvent, parse_event

TIMING = Timing(quiet=0.5, max_delay=3.0, poll=1.0, backoff_base=1.0, backoff_cap=8.0)
KEY_A: PlanKey = (("up", "api", "1", "hash-a"),)
KEY_B: PlanKey = (("up", "db", "1", "hash-b"),)


def died(name: str = "spot-db-1", cid: str = "c1", code: int | None = 1) -> ContainerEvent:
    return ContainerEvent("die", name, cid, "db", code)


@dataclass
class World:
    """A scripted clock, engine events at given times, input changes at given times."""

    now: float = 0.0
    events: list[tuple[float, Trigger]] = field(default_factory=list)
    changes: list[tuple[float, InputChanged]] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def inbox(self, timeout: float) -> Trigger | None:
        if self.events and self.events[0][0] <= self.now + timeout:
            at, event = self.events.pop(0)
            self.now = max(self.now, at)
            return event
        self.now += timeout
        return None

    def poll(self) -> list[InputChanged]:
        due = [c for at, c in self.changes if at <= self.now]
        self.changes = [(at, c) for at, c in self.changes if at > self.now]
        return due


@dataclass
class Script:
    """Passes that answer from a script and note when each apply and preview ran."""

    world: World
    answer: Callable[[int], Result]  # apply number (1-based) -> its result
    preview_answer: Callable[[], Result] = lambda: Result(Kind.CONVERGED, plan_text="No changes.")
    seconds: float = 0.0  # how long an apply takes
    applies: list[float] = field(default_factory=list)
    previews: list[float] = field(default_factory=list)
    during_apply: Callable[[], None] = lambda: None

    def preview(self) -> Result:
        self.previews.append(self.world.now)
        return self.preview_answer()

    def apply(self) -> Result:
        self.applies.append(self.world.now)
        self.during_apply()
        self.world.now += self.seconds
        return self.answer(len(self.applies))


def watch_with(world: World, script: Script, lines: list[str] | None = None) -> Watch:
    return Watch(
        script,
        world.inbox,
        world.poll,
        (lines if lines is not None else []).append,
        TIMING,
        clock=world.clock,
        stamp=lambda: f"t={world.now:.1f}",
    )


def run_until(watch: Watch, world: World, end: float) -> None:
    watch.pass_now("watch started")
    for _ in range(100_000):
        if world.now >= end:
            return
        watch.step()
    raise AssertionError(f"the loop spins at t={world.now}: it must always wait for something")


def converged(n: int) -> Result:
    return Result(Kind.CONVERGED, KEY_A, plan_text="No changes.")


def test_a_burst_of_events_makes_one_pass_after_it_settles() -> None:
    world = World(events=[(10.0 + i * 0.1, died(f"spot-s{i}-1", f"c{i}")) for i in range(8)])
    script = Script(world, converged)
    lines: list[str] = []
    run_until(watch_with(world, script, lines), world, 30.0)
    assert script.applies == [0.0, pytest.approx(10.7 + 0.5)]  # the start, then one pass
    headers = [line for line in lines if "] pass " in line]
    assert "container spot-s0-1 died (exit code 1)" in headers[1]
    assert "container spot-s7-1 died" in headers[1]


def test_a_burst_that_never_pauses_still_gets_a_pass_after_max_delay() -> None:
    world = World(events=[(10.0 + i * 0.3, died(f"spot-s{i}-1", f"c{i}")) for i in range(30)])
    script = Script(world, converged)
    run_until(watch_with(world, script), world, 11.0 + TIMING.max_delay)
    assert script.applies[1] == pytest.approx(10.0 + TIMING.max_delay)


def test_debounce_waits_for_the_die_that_follows_a_kill() -> None:
    kill = ContainerEvent("kill", "spot-api-1", "c9")
    assert not settled([kill])
    assert settled([kill, ContainerEvent("destroy", "spot-api-1", "c9")])
    assert debounce_wait(0.0, 0.0, 0.6, TIMING, settled=False) == pytest.approx(2.4)
    assert debounce_wait(0.0, 0.0, 0.6, TIMING, settled=True) == 0.0
    assert describe([kill, ContainerEvent("die", "spot-api-1", "c9", None, 137)]) == (
        "container spot-api-1 died (exit code 137)"
    )
    removed = [
        kill,
        ContainerEvent("die", "spot-api-1", "c9"),
        ContainerEvent("destroy", "spot-api-1", "c9"),
    ]
    assert describe(removed) == "container spot-api-1 was removed"


def test_backoff_doubles_from_the_base_and_stops_at_the_cap() -> None:
    assert [backoff_delay(n, TIMING) for n in range(7)] == [0, 1, 2, 4, 8, 8, 8]


def test_the_same_failing_plan_is_retried_on_the_backoff_schedule_not_in_a_loop() -> None:
    world = World()
    script = Script(
        world,
        lambda n: Result(Kind.FAILED, KEY_A, "apply failed: api: not ready"),
        preview_answer=lambda: Result(Kind.PENDING, KEY_A, plan_text="~ recreate api"),
        seconds=0.5,
    )
    # events keep coming (Docker reports every death): each only previews
    world.events = [(t + 0.05, died()) for t in range(1, 40, 2)]
    lines: list[str] = []
    run_until(watch_with(world, script, lines), world, 40.0)
    gaps = [b - (a + 0.5) for a, b in zip(script.applies, script.applies[1:], strict=False)]
    assert gaps == pytest.approx([1, 2, 4, 8, 8, 8], abs=0.6)
    assert len(script.applies) == 7  # over 40 s: without the backoff, ~20 (one per event)
    assert any("Backing off: the same plan failed 4 times in a row" in line for line in lines)
    assert any("not applied: the same plan failed" in line for line in lines)


def test_a_different_plan_is_applied_at_once_and_resets_the_backoff() -> None:
    world = World()
    plan = {"key": KEY_A}
    script = Script(
        world,
        lambda n: Result(Kind.FAILED, plan["key"], "failed"),
        preview_answer=lambda: Result(Kind.PENDING, plan["key"], plan_text="plan"),
    )
    watch = watch_with(world, script)
    run_until(watch, world, 20.5)
    assert script.applies == pytest.approx([0, 1, 3, 7, 15])  # next: 23
    assert watch.attempts.failures == 5
    plan["key"] = KEY_B
    world.events = [(21.0, died())]
    run_until_applies(watch, script, 6)
    assert script.applies[5] == pytest.approx(21.5)  # after the debounce, not at 23
    assert watch.attempts.key == KEY_B and watch.attempts.failures == 1


def test_an_input_change_resets_the_backoff() -> None:
    world = World(changes=[(9.5, InputChanged(".env"))])
    script = Script(
        world,
        lambda n: Result(Kind.FAILED, KEY_A, "failed"),
        preview_answer=lambda: Result(Kind.PENDING, KEY_A, plan_text="plan"),
    )
    lines: list[str] = []
    watch = watch_with(world, script, lines)
    run_until(watch, world, 9.4)
    assert script.applies == pytest.approx([0, 1, 3, 7])  # the next would be at 15
    run_until_applies(watch, script, 5)
    assert script.applies[4] == pytest.approx(10.5)  # the poll at 10, then the debounce
    assert any(line.endswith("pass 5: .env changed") for line in lines)
    assert watch.attempts.failures == 1


def run_until_applies(watch: Watch, script: Script, count: int) -> None:
    for _ in range(100_000):
        if len(script.applies) >= count:
            return
        watch.step()
    raise AssertionError("no such apply")


def test_a_plan_applied_fine_but_needed_again_soon_counts_as_failed() -> None:
    """A container that runs, passes the gate, then dies again: no restart storm."""
    world = World(events=[(t, died()) for t in range(2, 60, 3)])
    script = Script(
        world,
        lambda n: Result(Kind.APPLIED, KEY_A, plan_text="> start db"),
        preview_answer=lambda: Result(Kind.PENDING, KEY_A, plan_text="> start db"),
    )
    run_until(watch_with(world, script), world, 60.0)
    # 20 deaths in 60 s; the first repeats go at once (their backoff had passed), then
    # one attempt per backoff step, up to the cap: 1, 2, 4, 8, 8...
    assert script.applies == pytest.approx([0, 2.5, 5.5, 9.5, 17.5, 25.5, 33.5, 41.5, 49.5, 57.5])


def test_a_plan_that_held_longer_than_stable_is_applied_at_once_next_time() -> None:
    attempts = Attempts(TIMING)
    attempts.record(KEY_A, True, 100.0)
    assert attempts.wait(KEY_A, 100.0 + TIMING.stable + 1) == 0.0
    assert attempts.failures == 0


def test_a_busy_lock_skips_the_pass_keeps_its_reason_and_is_no_failure() -> None:
    world = World(events=[(5.0, died("spot-db-1"))])
    answers = [
        Result(Kind.CONVERGED),
        Result(Kind.BUSY, detail="another reconcile is applying project spot (pid 7)"),
        Result(Kind.BUSY, detail="another reconcile is applying project spot (pid 7)"),
        Result(Kind.APPLIED, KEY_A),
    ]
    script = Script(world, lambda n: answers[n - 1])
    lines: list[str] = []
    watch = watch_with(world, script, lines)
    run_until(watch, world, 12.0)
    assert script.applies == pytest.approx([0.0, 5.5, 7.5, 9.5])
    assert watch.attempts.failures == 0
    skipped = [line for line in lines if line.startswith("Skipped: another reconcile")]
    assert len(skipped) == 2
    headers = [line for line in lines if "] pass " in line]
    assert headers[3].endswith("container spot-db-1 died (exit code 1) (lock was busy)")


def test_events_during_an_apply_lead_to_one_re_check_not_a_loop() -> None:
    world = World(events=[(15.0, died())])
    script = Script(world, lambda n: Result(Kind.APPLIED, KEY_A, plan_text="+ create db"))

    def own_events() -> None:  # the apply's own recreate, reported by the engine
        for action in ("kill", "die", "destroy", "create", "start"):
            world.events.insert(0, (world.now, ContainerEvent(action, "spot-db-1", "c1")))

    script.during_apply = own_events
    lines: list[str] = []
    run_until(watch_with(world, script, lines), world, 60.0)
    assert len(script.applies) == 2  # the start and the death, nothing after
    headers = [line for line in lines if "] pass " in line]
    assert "re-check after the last pass (5 engine event(s) during it)" in headers[-1]
    assert lines[-1] == "No changes."


def test_plan_only_never_applies() -> None:
    world = World(events=[(3.0, died())])
    script = Script(world, converged)
    watch = watch_with(world, script)
    watch.plan_only = True
    run_until(watch, world, 10.0)
    assert script.applies == [] and len(script.previews) == 2


def test_docker_events_lines_are_parsed_and_exec_noise_dropped() -> None:
    line = (
        '{"Type":"container","Action":"die","Actor":{"ID":"abc","Attributes":'
        '{"name":"spot-db-1","com.docker.compose.service":"db","exitCode":"137"}}}'
    )
    assert parse_event(line) == ContainerEvent("die", "spot-db-1", "abc", "db", 137)
    assert parse_event('{"Type":"container","Action":"exec_start: sh","Actor":{}}') is None
    assert parse_event("not json") is None


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 0)])
def test_a_signal_mid_pass_stops_cleanly_and_frees_the_lock(
    sig: signal.Signals, code: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECONCILE_LOCK_DIR", str(tmp_path / "locks"))
    world = World()
    closed: list[bool] = []

    def apply_under_the_lock() -> None:  # as commands.apply holds it, then the signal
        with project_lock("spotwatch", 0, endpoint="unix:///test.sock"):
            os.kill(os.getpid(), sig)

    script = Script(world, converged, during_apply=apply_under_the_lock)
    lines: list[str] = []
    before = signal.getsignal(sig)
    result = serve(
        watch_with(world, script, lines), lambda: None, lambda: closed.append(True), lines.append
    )
    assert result == code
    assert closed == [True]
    assert lines[-1].endswith(f"{sig.name}: stopped after 1 pass(es).")
    assert signal.getsignal(sig) == before
    with project_lock("spotwatch", 0, endpoint="unix:///test.sock"):
        pass  # free: taken at once


def test_a_signal_between_passes_stops_cleanly() -> None:
    world = World()
    script = Script(world, converged)
    waits: list[float] = []

    def inbox(timeout: float) -> Trigger | None:
        waits.append(timeout)
        if len(waits) > 3:
            os.kill(os.getpid(), signal.SIGTERM)
        return world.inbox(timeout)

    watch = watch_with(world, script)
    watch.inbox = inbox
    assert serve(watch, lambda: None, lambda: None, lambda text: None) == 0
    assert len(script.applies) == 1


def test_help_says_what_triggers_a_pass_and_the_exit_codes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["watch", "--help"]) == 0
    out = capsys.readouterr().out
    assert "Exit 130 on Ctrl-C (SIGINT), 0 on SIGTERM." in " ".join(out.split())
    assert "--backoff-max" in out and "--plan-only" in out


def test_an_event_after_the_apply_ended_is_a_trigger_not_its_echo() -> None:
    world = World()
    script = Script(world, lambda n: Result(Kind.APPLIED, KEY_A, plan_text="+ create db"))

    def own_and_later_events() -> None:
        world.events.insert(0, (world.now, ContainerEvent("start", "spot-db-1", "c1", time=1.0)))
        later = ContainerEvent("destroy", "spot-api-1", "c2", time=3.0)  # after the apply
        world.events.insert(1, (world.now, later))

    script.during_apply = own_and_later_events
    lines: list[str] = []
    watch = watch_with(world, script, lines)
    watch.wall = lambda: 2.0  # the apply ended at 2.0 on the engine's clock
    watch.pass_now("watch started")
    assert watch._recheck == 1
    assert [t.container for t in watch.pending if isinstance(t, ContainerEvent)] == ["spot-api-1"]
