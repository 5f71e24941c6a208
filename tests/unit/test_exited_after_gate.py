"""An apply whose gate saw a container running that then exited by itself says so as
the gate does (reconciler/commands/converge.py `_exited_since`), not "did not converge":
a process that ends at once can still read `running` on the gate's first look, where
Compose's --wait looks 0.5 s later and reports it exited."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from reconciler.commands.converge import ApplySettings, _exited_since
from reconciler.planner.plan import plan
from reconciler.planner.snapshot import Snapshot
from state.engine import ContainerStatus
from state.model.desired import Dependency
from tests.builders import container, desired, observed, service

EXITED = ContainerStatus.EXITED


def opened() -> Any:
    return SimpleNamespace(engine=SimpleNamespace(log_tail=lambda cid, lines: "migrated"))


def snapshots(*final: Any, wanted: Any = None) -> tuple[Snapshot, Snapshot]:
    want = wanted or desired(service("migrate"), service("web"))
    first = Snapshot(want, observed(), plan(want, observed()))
    now = observed(*final)
    return first, Snapshot(want, now, plan(want, now))


def test_a_service_that_exited_by_itself_after_the_gate_is_a_failure_to_start() -> None:
    first, final = snapshots(container("migrate", status=EXITED, exit_code=0), container("web"))
    words = _exited_since(first, final, opened(), ApplySettings())
    assert words.startswith(f"failed to start: migrate ({final.observed.containers[0].name}")
    assert "exited with code 0" in words and "it exited by itself" in words
    assert "migrated" in words  # its last log lines
    assert "web" not in words.split("\n")[0]


def test_nothing_exited_or_no_gate_says_nothing() -> None:
    first, final = snapshots(container("migrate"), container("web"))
    assert _exited_since(first, final, opened(), ApplySettings()) == ""
    first, final = snapshots(container("migrate", status=EXITED, exit_code=0), container("web"))
    assert _exited_since(first, final, opened(), ApplySettings(wait=False)) == ""


def test_a_one_shot_that_completed_is_what_was_wanted() -> None:
    waits = Dependency(service="migrate", condition="service_completed_successfully")
    wanted = desired(service("migrate"), service("web", depends_on=[waits]))
    first, final = snapshots(
        container("migrate", status=EXITED, exit_code=0), container("web"), wanted=wanted
    )
    assert _exited_since(first, final, opened(), ApplySettings()) == ""


def test_a_container_the_apply_did_not_bring_up_is_not_its_failure() -> None:
    want = desired(service("migrate"), service("web"))
    before = observed(container("migrate", status=EXITED, exit_code=0), container("web"))
    first = Snapshot(want, before, plan(want, before))
    assert {a.service for a in first.plan.actions} == {"migrate"}  # it starts migrate only
    unrelated = desired(service("migrate"), service("web"))
    now = observed(container("migrate"), container("web", status=EXITED, exit_code=0))
    final = Snapshot(unrelated, now, plan(unrelated, now))
    assert _exited_since(first, final, opened(), ApplySettings()) == ""
