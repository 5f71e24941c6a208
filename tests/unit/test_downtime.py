"""Predicted unavailability (reconciler/planner/downtime.py) and how plans show it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.commands import receipts
from reconciler.planner.downtime import FROM_CONFIG, START, START_FIRST, predict
from reconciler.planner.plan import ActionKind, Strategy, plan
from reconciler.planner.snapshot import Snapshot
from reconciler.render import plans
from reconciler.store import history, places
from state.model.desired import seconds
from tests.builders import container, desired, observed, service


@pytest.fixture(autouse=True)
def private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(places.STATE_DIR_VARIABLE, str(tmp_path / "state"))


SERVICES = (
    service("db", env="dev", has_healthcheck=True, health_interval=2.0, init=True),
    service("api", env="dev", stop_grace=5.0),
    service("web", env="dev"),
    service(
        "cron", env="dev", has_healthcheck=True, health_interval=4.0, health_start_interval=1.0
    ),
)
WORLD = observed(*(container(s.name, env="prod") for s in SERVICES), container("mail"))


def _switch() -> tuple[object, object]:
    wanted = desired(*SERVICES, env="dev")
    return wanted, plan(wanted, WORLD)


def test_from_config_stop_start_and_the_first_health_check() -> None:
    wanted, switch = _switch()
    found = predict(wanted, switch)  # type: ignore[arg-type]
    by_service = {switch.actions[i].service: g for i, g in found.actions.items()}  # type: ignore[attr-defined]
    assert by_service["db"].seconds == 0.5 + START + 2.0  # init: SIGTERM handled; interval 2 s
    assert by_service["api"].seconds == 5.0 + START  # its grace period, no healthcheck
    assert by_service["web"].seconds == 10.0 + START  # Docker's default grace
    assert by_service["cron"].seconds == 10.0 + START + 1.0  # start_interval before interval
    assert by_service["mail"].seconds == 10.0  # removed: not in the desired state
    assert {g.source for g in found.actions.values()} == {FROM_CONFIG}
    assert found.total == pytest.approx(sum(g.seconds for g in found.actions.values()))
    assert sum(found.waves) == pytest.approx(found.total)


def test_from_history_the_median_of_the_last_five_measured_recreates() -> None:
    wanted, switch = _switch()
    found = predict(wanted, switch, {"db": [9.0, 1.0, 2.0, 3.0, 4.0, 100.0]})  # type: ignore[arg-type]
    guess = next(g for i, g in found.actions.items() if switch.actions[i].service == "db")  # type: ignore[attr-defined]
    assert (guess.seconds, guess.source) == (3.0, "from history (median of 5)")


def test_a_restart_charges_the_stop_once() -> None:
    wanted = desired(service("api", stop_grace=5.0))
    restart = plan(wanted, observed(container("api")), Strategy.ALWAYS)
    assert [a.kind for a in restart.actions] == [ActionKind.STOP, ActionKind.RECREATE]
    found = predict(wanted, restart)
    assert [found.actions[i].seconds for i in range(2)] == [5.0, START]


def test_a_start_first_recreate_is_predicted_at_zero_saying_why() -> None:
    wanted = desired(service("web", env="dev", update_order="start-first"), env="dev")
    switch = plan(wanted, observed(container("web")))
    guess = predict(wanted, switch).actions[0]
    assert (guess.seconds, guess.source) == (0.0, START_FIRST)
    assert "old container serves until the new one is ready" in guess.source


def test_a_start_first_service_that_cannot_run_twice_is_charged_the_stop() -> None:
    spec = service("web", env="dev", update_order="start-first", container_name="web")
    wanted = desired(spec, env="dev")
    switch = plan(wanted, observed(container("web")))
    guess = predict(wanted, switch).actions[0]
    assert (guess.seconds, guess.source) == (10.0 + START, FROM_CONFIG)
    assert switch.actions[0].reasons[-1] == (
        "start-first refused: container_name web fixes one name; stop-first"
    )


def test_nothing_down_nothing_predicted() -> None:
    wanted = desired(service("api"))
    fresh = plan(wanted, observed())
    found = predict(wanted, fresh)
    assert (found.actions, found.total) == ({}, 0.0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1m30s", 90.0), ("500ms", 0.5), ("2s", 2.0), (7, 7.0), ("soon", None), (None, None)],
)
def test_compose_durations(text: object, expected: float | None) -> None:
    assert seconds(text) == expected


def test_the_plan_shows_each_prediction_and_its_sum_in_text_and_json() -> None:
    wanted, switch = _switch()
    snap = Snapshot(wanted, WORLD, switch, downtime=predict(wanted, switch))  # type: ignore[arg-type]
    text = plans.plan_text(snap)
    assert f"down ~{0.5 + START + 2.0:g} s from config" in text
    total = 4 * START + 2.5 + 5.0 + 10.0 + 11.0 + 10.0  # db, api, web, cron; mail removed
    assert f"Predicted unavailability: ~{total:.0f} s in total (summed over services); " in text
    assert f"longest cron ~{11.0 + START:.0f} s." in text
    document = json.loads(plans.plan_json(snap))
    assert document["schema_version"] == 7
    db = next(a for a in document["actions"] if a["service"] == "db")
    assert db["downtime"] == {"seconds": 0.5 + START + 2.0, "from": FROM_CONFIG}
    assert document["downtime"]["total_seconds"] == total


def test_measured_reads_only_recreates_that_came_back_ready() -> None:
    def kept(kind: str, until: str, value: float) -> dict[str, object]:
        return {
            "actions": [{"kind": kind, "service": "db"}],
            "unavailable": [{"service": "db", "seconds": value, "until": until}],
        }

    history.append("spot", kept("recreate", "ready", 4.0))
    history.append("spot", kept("recreate", "not ready", 120.0))
    history.append("spot", kept("remove", "removed", 0.3))
    history.append("spot", kept("recreate", "ready", 6.0))
    assert receipts.measured("spot") == {"db": [6.0, 4.0]}
