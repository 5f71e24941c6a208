"""Engine calls per plan do not grow with the project: counted, never timed.

Two synthetic projects (tests/bench/synthetic.py) of different sizes, brought up by
Compose itself; a plan of each must start the same number of engine processes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.cli.engines import real_kits
from reconciler.commands.converge import preview
from reconciler.planner.plan import Strategy
from reconciler.reads.opened import ProjectOptions, open_project
from tests.bench.synthetic import SyntheticProject
from tests.bench.tools import Compose, Ours, engine_calls

SIZES = (3, 12)


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[SyntheticProject]]:
    root = tmp_path_factory.mktemp("calls")
    made = [SyntheticProject.create(root, size) for size in SIZES]
    try:
        for project in made:
            Compose(project).run("up", "--detach", app_env="prod")
        yield made
    finally:
        for project in made:
            project.remove_everything()


def test_a_plan_makes_the_same_number_of_engine_calls_at_every_size(
    projects: list[SyntheticProject], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("APP_ENV", "prod")
    # No swarm configured (as in CI's `just test`): with one, the CLI asks it once
    # whether the project runs there (reconciler/reads/placement.py, its own tests).
    monkeypatch.setenv("SWARM_MANAGER_HOST", f"unix://{tmp_path}/no-swarm.sock")
    counted, processes, started, cached = [], [], [], []
    for project in projects:
        options = ProjectOptions(project_name=project.name, project_directory=project.directory)
        opened = open_project(options, real_kits(), "cli")
        snap = preview(opened, Strategy.CHANGED)
        assert len(snap.observed.containers) == len(project.services("prod"))
        assert snap.plan.is_empty
        counted.append(opened.engine.calls)  # type: ignore[attr-defined]
        # Of those, `docker` processes (the reads over the Engine API start none).
        processes.append(opened.engine.commands.processes)  # type: ignore[attr-defined]
        again = open_project(options, real_kits(), "cli")  # the config cache answers
        assert preview(again, Strategy.CHANGED).plan.is_empty
        cached.append(again.engine.calls)  # type: ignore[attr-defined]
        # The CLI, as a user runs it: every `docker` process it starts (a PATH shim).
        started.append(len(engine_calls(Ours(project), "--plan", app_env="prod", expect=(0,))))
    assert counted[0] == counted[1], f"engine calls per plan grew with the size: {counted}"
    assert started == processes, f"docker processes {started} != counted {processes}"
    assert cached[0] == cached[1] < counted[0], f"with the config cache: {cached}"
