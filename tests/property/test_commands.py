"""Properties of the shipped commands over generated worlds (in-memory engine).

`commands.apply`, `restart`, `stop` and `down` run as the CLI runs them (the driver),
and `reconcile.cli.main` itself for `--plan`: every write happens under the project's
lock, restart stops before it recreates, stop and down do what they say and never
touch one-offs, and `--plan` on any command writes nothing.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from reconciler.cli.main import main
from state.engine import ONEOFF_LABEL, PROJECT_LABEL, ContainerStatus
from state.model.desired import DesiredState
from tests.memory_engine import MemContainer, MemoryEngine
from tests.property.driver import REPO, current_plan, down, reconcile, restart, stop
from tests.property.strategies import PROJECT, worlds

COMMANDS = {"reconcile": reconcile, "restart": restart, "stop": stop, "down": down}
UP = (ContainerStatus.RUNNING, ContainerStatus.PAUSED, ContainerStatus.RESTARTING)


def ours(engine: MemoryEngine) -> dict[str, str]:
    """The project's own containers (no one-offs): id -> service."""
    return {
        cid: c.service
        for cid, c in engine.containers_by_id.items()
        if c.project == PROJECT and c.labels.get(ONEOFF_LABEL) != "True"
    }


def foreign(engine: MemoryEngine) -> dict[str, MemContainer]:
    return {
        cid: c
        for cid, c in engine.snapshot().items()
        if c.labels.get(PROJECT_LABEL) != PROJECT or c.labels.get(ONEOFF_LABEL) == "True"
    }


@given(worlds(), st.sampled_from(sorted(COMMANDS)))
def test_every_write_happens_under_the_project_lock(
    case: tuple[DesiredState, MemoryEngine], command: str
) -> None:
    desired, engine = case
    run = COMMANDS[command](engine, desired)
    assert run.ok, run.error
    assert engine.unlocked_writes == []


@given(worlds())
def test_restart_stops_each_running_container_before_recreating_it(
    case: tuple[DesiredState, MemoryEngine],
) -> None:
    desired, engine = case
    running = {
        c.service
        for cid, c in engine.containers_by_id.items()
        if cid in ours(engine) and c.service in desired.services and c.status in UP
    }
    before = set(ours(engine))
    run = restart(engine, desired)
    assert run.ok, run.error
    for service in running:
        calls = [(op, names) for op, names in engine.calls if service in names]
        first_up = next((i for i, (op, _) in enumerate(calls) if op == "up"), len(calls))
        assert {"stop", "remove"} & {op for op, _ in calls[:first_up]}, (service, calls)
    assert not before & set(ours(engine))  # every container is a new one
    assert current_plan(engine, desired).is_empty


@given(worlds())
def test_stop_leaves_nothing_running_and_keeps_every_container(
    case: tuple[DesiredState, MemoryEngine],
) -> None:
    desired, engine = case
    before, others = set(ours(engine)), foreign(engine)
    run = stop(engine, desired)
    assert run.ok, run.error
    assert set(ours(engine)) == before
    assert not [c for c in ours(engine) if engine.containers_by_id[c].status in UP]
    assert foreign(engine) == others


@given(worlds(), st.booleans())
def test_down_removes_the_project_but_never_one_offs_or_unconfirmed_volumes(
    case: tuple[DesiredState, MemoryEngine], volumes: bool
) -> None:
    desired, engine = case
    reconcile(engine, desired)  # make networks and volumes to remove
    others, made = foreign(engine), set(engine.volumes_made)
    run = down(engine, desired, volumes=volumes)
    assert run.ok, run.error
    assert ours(engine) == {}
    assert foreign(engine) == others
    oneoffs = any(c.project == PROJECT for c in others.values())
    assert bool(engine.networks(PROJECT)) == (oneoffs and bool(engine.networks_made))
    assert set(engine.volumes(PROJECT)) == (set() if volumes else made)


SAVED = "<saved plan file>"
ARGVS: tuple[list[str], ...] = (
    [],
    ["stop"],
    ["restart"],
    ["down"],
    ["down", "--volumes", "--yes"],
    ["apply", SAVED],  # a plan saved by `--plan --out` just before
)


@given(worlds(), st.sampled_from(ARGVS), st.booleans(), st.booleans())
def test_plan_changes_nothing_whatever_the_command(
    case: tuple[DesiredState, MemoryEngine],
    argv: list[str],
    flag_first: bool,
    converge_first: bool,
) -> None:
    """`--plan`, before or after the command's name, makes no write call at all."""
    desired, engine = case
    if converge_first:
        reconcile(engine, desired)
    writes, before = len(engine.writes), engine.snapshot()
    options = ["--project-directory", str(REPO), "--project-name", PROJECT]
    with tempfile.TemporaryDirectory() as scratch:
        saved = str(Path(scratch) / "plan.json")
        argv = [saved if word == SAVED else word for word in argv]
        if saved in argv:
            assert main(["--plan", "--out", saved, *options], engine=lambda p: engine) in (0, 2)
        line = ["--plan", *argv, *options] if flag_first else [*argv, "--plan", *options]
        code = main(line, engine=lambda project: engine)
    assert code in (0, 2)
    assert engine.writes[writes:] == []
    assert engine.snapshot() == before
