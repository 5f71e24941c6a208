"""Saved plans over generated worlds (in-memory engine, through `cli.main`).

`reconcile --plan --out FILE` writes nothing to the engine; `reconcile apply FILE`
on an untouched world executes exactly the saved actions and converges; any
out-of-band change to the project's containers between save and apply makes apply
refuse the plan (exit 1) without a single write, and `apply FILE --plan` (a check,
never an action) says the same.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from hypothesis import assume, given
from hypothesis import strategies as st

from reconciler.cli.main import main
from reconciler.store.saved_plans import load
from state.engine import CONFIG_HASH_LABEL, ContainerRecord, ContainerStatus
from state.model.desired import DesiredState
from tests.memory_engine import MemoryEngine
from tests.property.driver import REPO, current_plan
from tests.property.strategies import POOL, PROJECT, worlds
from tests.property.test_commands import ours

OPTIONS = ["--project-directory", str(REPO), "--project-name", PROJECT, "--no-wait"]
DISTURBANCES = ("status", "remove", "label", "add")


def run(engine: MemoryEngine, *argv: str) -> int:
    return main([*argv, *OPTIONS], engine=lambda project: engine)


def save(engine: MemoryEngine, directory: str) -> Path:
    out = Path(directory) / "plan.json"
    writes = len(engine.writes)
    assert run(engine, "--plan", "--out", str(out)) in (0, 2)
    assert engine.writes[writes:] == []
    return out


@given(worlds())
def test_a_fresh_saved_plan_applies_exactly_and_converges(
    case: tuple[DesiredState, MemoryEngine],
) -> None:
    desired, engine = case
    with tempfile.TemporaryDirectory() as directory:
        out = save(engine, directory)
        saved = load(out.read_text(), str(out))
        writes = len(engine.writes)
        assert run(engine, "apply", str(out), "--plan") == (2 if saved.plan.actions else 0)
        assert engine.writes[writes:] == []  # checking a saved plan is read-only
        assert run(engine, "apply", str(out)) == 0
    assert current_plan(engine, desired).is_empty
    assert bool(engine.writes[writes:]) == bool(saved.plan.actions)
    assert engine.unlocked_writes == []


def seen_by_docker(engine: MemoryEngine) -> list[ContainerRecord]:
    return sorted((c.record() for c in engine.containers_by_id.values()), key=lambda r: r.id)


@given(worlds(), st.sampled_from(DISTURBANCES), st.data())
def test_any_change_between_save_and_apply_is_refused_and_touches_nothing(
    case: tuple[DesiredState, MemoryEngine], disturbance: str, data: st.DataObject
) -> None:
    _, engine = case
    with tempfile.TemporaryDirectory() as directory:
        out = save(engine, directory)
        seen = seen_by_docker(engine)
        mine = sorted(ours(engine))
        if not mine or disturbance == "add":
            engine.add(data.draw(st.sampled_from(POOL)), 9)
        else:
            victim = data.draw(st.sampled_from(mine))
            if disturbance == "status":
                now = engine.containers_by_id[victim].status
                other = [s for s in ContainerStatus if s not in (now, ContainerStatus.REMOVING)]
                engine.disturb_status(victim, data.draw(st.sampled_from(other)))
            elif disturbance == "remove":
                engine.disturb_remove(victim)
            else:
                engine.disturb_label(victim, CONFIG_HASH_LABEL, "changed-out-of-band")
        engine.found()  # time passes after the disturbance: a health probe, a one-shot ends
        writes, before = len(engine.writes), engine.snapshot()
        # A one-shot set running runs to completion again: that disturbance changed nothing.
        assume(seen_by_docker(engine) != seen)
        assert run(engine, "apply", str(out), "--plan") == 1
        assert run(engine, "apply", str(out)) == 1
    assert engine.writes[writes:] == []
    assert engine.snapshot() == before


@given(worlds(), st.data())
def test_a_plan_saved_before_the_scale_changed_is_refused(
    case: tuple[DesiredState, MemoryEngine], data: st.DataObject
) -> None:
    """A scale edited between save and apply changes no container, hash or image (what
    the fingerprint holds), only what a fresh plan would do: apply must compare the
    saved actions with a fresh plan's and refuse, touching nothing."""
    desired, engine = case
    assume(desired.services)
    with tempfile.TemporaryDirectory() as directory:
        out = save(engine, directory)
        name = data.draw(st.sampled_from(sorted(desired.services)))
        spec = desired.services[name]
        scaled = replace(spec, replicas=spec.replicas + 1)
        engine.desired = replace(desired, services={**desired.services, name: scaled})
        writes, before = len(engine.writes), engine.snapshot()
        assert run(engine, "apply", str(out)) == 1
    assert engine.writes[writes:] == []
    assert engine.snapshot() == before
