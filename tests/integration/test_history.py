"""The history on the real engine: prod -> dev -> prod leaves three receipts, each with
its actions and each recreated service's measured unavailability."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bench.synthetic import SyntheticProject
from tests.bench.tools import Ours


@pytest.fixture
def project(tmp_path: Path) -> Iterator[SyntheticProject]:
    made = SyntheticProject.create(tmp_path, 10)
    try:
        yield made
    finally:
        made.remove_everything()


def test_a_switch_and_back_leaves_three_receipts_with_measured_downtime(
    project: SyntheticProject,
) -> None:
    ours = Ours(project)
    for app_env in ("prod", "dev", "prod"):
        ours.up(app_env)
    ours.plan("prod")  # converged, and a plan leaves no receipt
    listed = json.loads(ours.run("history", "--format", "json", app_env="prod"))
    receipts = listed["receipts"]
    assert [r["app_env"]["name"] for r in receipts] == ["prod", "dev", "prod"]  # newest first
    assert [r["result"] for r in receipts] == ["converged"] * 3
    assert {r["command"] for r in receipts} == {"reconcile"}
    first, switch, back = receipts[2], receipts[1], receipts[0]
    assert {a["kind"] for a in first["actions"]} == {"create"}
    assert first["unavailable"] == []  # nothing ran before: nothing was down
    prod = set(project.services("prod"))
    recreated = {a["service"] for a in switch["actions"] if a["kind"] == "recreate"}
    assert recreated == prod and all(a["status"] == "done" for a in switch["actions"])
    down = {u["service"]: u for u in back["unavailable"]}
    assert set(down) == set(project.services("dev"))
    assert down["s005"]["until"] == "removed"  # the dev-only service: gone for good
    for service in prod:
        assert down[service]["until"] == "ready"
        assert 0 < down[service]["seconds"] < 120
    # s000 has a healthcheck (2 s interval): down at least until its first check passed.
    action = next(a for a in back["actions"] if a["service"] == "s000")
    assert down["s000"]["seconds"] >= action["seconds"] - 0.5
    shown = ours.run("history", "show", "1", app_env="prod")
    assert "APP_ENV:   prod (from the command line)" in shown
    assert "s000" in shown and "until ready" in shown and back["plan_digest"] in shown
    listing = ours.run("history", app_env="prod")
    assert listing.count("converged") == 3
