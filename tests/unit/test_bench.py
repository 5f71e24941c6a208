"""The benchmark's own pieces: the generated project and the statistics (no Docker)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.store.places import cache_directory, lock_directory, state_directory
from state.resolve.table import load_table
from tests.bench.__main__ import STATE_VARIABLES, own_state_dirs
from tests.bench.stats import Samples, ratio
from tests.bench.synthetic import SyntheticProject, layout


def test_the_layout_mixes_chains_profiles_and_healthchecks() -> None:
    specs = layout(50)
    assert len(specs) == 50
    assert sum(s.healthcheck for s in specs) == 5
    assert sum(s.profile == "dev" for s in specs) == 5
    names = [s.name for s in specs]
    # Every dependency exists and comes earlier: chains, no cycles.
    for index, spec in enumerate(specs):
        for dep, _ in spec.depends_on:
            assert names.index(dep) < index
    healthy = {dep for s in specs for dep, cond in s.depends_on if cond == "service_healthy"}
    assert healthy == {s.name for s in specs if s.healthcheck}


def test_the_project_is_a_layout_the_reconciler_reads(tmp_path: Path) -> None:
    project = SyntheticProject.create(tmp_path, 12)
    table = load_table(project.directory / "compose")
    assert table.default == "prod"
    assert table["dev"].profiles == ("dev",)
    text = (project.directory / "compose" / "compose.yaml").read_text()
    assert text.count("APP_ENV: ${APP_ENV:-prod}") == 1  # shared by every service
    assert text.count("<<: *service") == 12
    assert len(project.services("prod")) == 11
    assert len(project.services("dev")) == 12
    assert project.name.startswith("spotbench-n12-")


def test_samples_report_median_and_spread() -> None:
    ours, theirs = Samples([1.0, 3.0, 2.0]), Samples([1.0, 1.0, 1.0])
    assert ours.median == 2.0
    assert ours.spread == 2.0
    assert ratio(ours, theirs) == 2.0
    assert ours.as_json()["samples_s"] == [1.0, 3.0, 2.0]


@pytest.mark.parametrize("size", [1, 10, 200])
def test_names_sort_in_creation_order(size: int) -> None:
    names = [s.name for s in layout(size)]
    assert names == sorted(names)


def test_the_bench_keeps_its_state_out_of_the_users_places(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in STATE_VARIABLES:  # restored after the test, whatever was set
        monkeypatch.setenv(variable, "/nowhere")
    own_state_dirs(tmp_path)
    places = (lock_directory(), state_directory(), cache_directory())
    assert all(place.parent == tmp_path for place in places)
    assert len(set(places)) == 3
    assert all(place.stat().st_mode & 0o077 == 0 for place in places)
