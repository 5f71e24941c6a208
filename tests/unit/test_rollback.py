"""Automatic rollback through the commands, on the in-memory engine (no Docker).

A `Sick` world makes containers of some config hashes unhealthy; the engine for the
journal's saved model (what rollback.py hands Compose) is a MemoryEngine over the same
containers whose "files" are the journal's desired state. The real engine's side is
tests/integration/test_rollback.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli.main import main
from reconciler.commands import converge
from reconciler.commands.rollback import MODEL_FILE
from reconciler.reads.backend import BackendKit
from reconciler.reads.opened import Opened
from reconciler.render import status as render_status
from reconciler.store import journal, places
from reconciler.store.journal import ROLLBACK_FAILED, ROLLED_BACK, ROLLING_BACK, Record
from state.engine import CONFIG_HASH_LABEL, Backend, ContainerStatus
from state.errors import ReconcilerError
from state.model.desired import DesiredState
from state.resolve.project import ComposeProject
from tests.builders import desired, service
from tests.memory_engine import Crash, MemContainer, MemoryEngine
from tests.property.driver import REPO, project_for, quick_retrying

GOOD = desired(service("db", has_healthcheck=True), service("api", depends_on=["db"]))
BROKEN_HASH = "hash-api-broken"
BAD = desired(
    service("db", has_healthcheck=True),
    service("api", depends_on=["db"], has_healthcheck=True, config_hash=BROKEN_HASH),
)


@dataclass
class Sick(MemoryEngine):
    """The world, where a container whose config hash is in `sick` never becomes healthy."""

    sick: set[str] = field(default_factory=set)
    saved_models: list[dict[str, Any]] = field(default_factory=list)

    def _set_status(self, container: MemContainer, status: ContainerStatus) -> None:
        super()._set_status(container, status)
        if container.labels.get(CONFIG_HASH_LABEL) in self.sick:
            container.health = "unhealthy"

    def probe_of(self, container: MemContainer) -> str:
        sick = container.labels.get(CONFIG_HASH_LABEL) in self.sick
        return "unhealthy" if sick else super().probe_of(container)

    def engines(
        self, crash_at: int | None = None
    ) -> Callable[[ComposeProject | None], MemoryEngine]:
        """The CLI's engine factory: this world, or for the journal's model a MemoryEngine
        of the same containers whose files are the journal's desired state."""

        def make(project: ComposeProject | None) -> MemoryEngine:
            if project is None or project.files[-1].name != MODEL_FILE:
                return self
            self.saved_models.append(json.loads(project.files[-1].read_text()))
            saved = journal.load(project.name)
            assert saved is not None and project.variables["APP_ENV"] == saved.desired.app_env.name
            return MemoryEngine(
                desired=saved.desired,
                containers_by_id=self.containers_by_id,
                calls=self.calls,
                crash_after_writes=crash_at,
                _ids=self._ids,
                _clock=self._clock,
            )

        return make


@pytest.fixture(autouse=True)
def private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("RECONCILE_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.setenv(places.STATE_DIR_VARIABLE, str(tmp_path / "state"))
    yield


def settings(**changes: Any) -> converge.ApplySettings:
    base: dict[str, Any] = {"wait_timeout": 0, "lock_timeout": 5, "retrying": quick_retrying}
    return converge.ApplySettings(**{**base, **changes})


def opened(world: Sick, state: DesiredState, crash_at: int | None = None) -> Opened:
    """The world's project, with the rollback's engines for the saved model from it."""
    kit = BackendKit(Backend.COMPOSE, world.engines(crash_at=crash_at))
    return Opened(project_for(state), kit, world, world)


def apply(world: Sick, state: DesiredState, **changes: Any) -> tuple[str | None, list[str]]:
    world.desired = state
    said: list[str] = []
    try:
        converge.apply(opened(world, state), settings(**changes), said.append)
    except ReconcilerError as exc:
        return str(exc), said
    return None, said


def hashes(world: MemoryEngine) -> dict[str, str]:
    return {c.service: c.labels[CONFIG_HASH_LABEL] for c in world.containers_by_id.values()}


def test_a_recreated_service_never_ready_goes_back_to_its_last_good_configuration() -> None:
    world = Sick(GOOD)
    assert apply(world, GOOD)[0] is None
    assert journal.load("spot") is not None and journal.records("spot") == {}
    world.sick.add(BROKEN_HASH)

    error, said = apply(world, BAD)
    assert error == "rolled back: api (unhealthy)"
    assert hashes(world) == {"db": "hash-db-prod", "api": "hash-api-prod"}
    assert all(c.health != "unhealthy" for c in world.containers_by_id.values())
    saved = journal.load("spot")
    assert saved is not None and world.saved_models == [saved.model]  # Compose got it
    assert any(line.startswith("Rolling back api to the configuration applied at") for line in said)
    assert journal.records("spot")["api"].state == ROLLED_BACK

    assert apply(world, GOOD)[0] is None  # the next successful apply
    assert journal.records("spot") == {}


def test_without_a_matching_journal_the_failure_stays_and_says_why() -> None:
    world = Sick(GOOD)
    world.add("db")
    world.add("api", depends_on=["db"])  # started by hand: never applied, so no journal
    world.sick.add(BROKEN_HASH)
    error, said = apply(world, BAD)
    assert error is not None and error.startswith(
        "apply failed: failed to start: api (spot-api-1: running, unhealthy)"
    )
    assert "cannot roll back api: previous configuration unknown" in said
    assert hashes(world)["api"] == BROKEN_HASH

    other = Sick(GOOD)
    assert apply(other, GOOD)[0] is None
    (api,) = [c for c in other.containers_by_id.values() if c.service == "api"]
    other.disturb_label(api.id, CONFIG_HASH_LABEL, "hash-made-elsewhere")  # not the journal's
    other.sick.add(BROKEN_HASH)
    error, said = apply(other, BAD)
    assert error is not None and error.startswith("apply failed:")
    assert "cannot roll back api: previous configuration unknown" in said


def test_no_rollback_keeps_the_failed_container() -> None:
    world = Sick(GOOD)
    assert apply(world, GOOD)[0] is None
    world.sick.add(BROKEN_HASH)
    error, said = apply(world, BAD, rollback=False)
    assert error is not None and error.startswith(
        "apply failed: failed to start: api (spot-api-1: running, unhealthy)"
    )
    assert "Not rolled back (--no-rollback): api left as it failed" in said
    assert hashes(world)["api"] == BROKEN_HASH
    assert journal.records("spot") == {}


def test_a_rollback_killed_midway_is_finished_before_the_next_run_plans(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = Sick(GOOD)
    assert apply(world, GOOD)[0] is None
    world.sick.add(BROKEN_HASH)
    world.desired = BAD
    with pytest.raises(Crash):  # the process dies as the rollback's `up` begins
        converge.apply(opened(world, BAD, crash_at=0), settings(), print)
    assert journal.records("spot")["api"].state == ROLLING_BACK
    assert hashes(world)["api"] == BROKEN_HASH
    status = render_status.rollback_lines(journal.records("spot"))
    assert status[0].startswith("Rollback interrupted: api at ")

    error, said = apply(world, BAD, rollback=False)  # --no-rollback: left for debugging
    assert not any(line.startswith("A killed run") for line in said)
    assert journal.records("spot")["api"].state == ROLLING_BACK

    # A saved plan is refused, untouched: finishing the rollback would change its basis.
    plan_file = tmp_path / "plan.json"
    options = ["--project-directory", str(REPO), "--project-name", "spot", "--wait-timeout", "0"]
    assert main(["--plan", "--out", str(plan_file), *options], engine=world.engines()) in (0, 2)
    writes = len(world.writes)
    assert main(["apply", str(plan_file), *options], engine=world.engines()) == 1
    assert "a killed run left a rollback of api unfinished" in capsys.readouterr().err
    assert world.writes[writes:] == [] and journal.records("spot")["api"].state == ROLLING_BACK

    error, said = apply(world, BAD)  # resumes, then tries the edit again: fails, goes back
    assert said[0] == "A killed run left a rollback unfinished: rolling back api"
    assert error == "rolled back: api (unhealthy)"
    assert hashes(world)["api"] == "hash-api-prod"
    assert journal.records("spot")["api"].state == ROLLED_BACK


def test_apply_json_reports_the_rolled_back_outcome(capsys: pytest.CaptureFixture[str]) -> None:
    world = Sick(GOOD)
    options = ["--project-directory", str(REPO), "--project-name", "spot", "--wait-timeout", "0"]
    assert main([*options], engine=world.engines()) == 0
    world.sick.add(BROKEN_HASH)
    world.desired = BAD
    capsys.readouterr()
    assert main([*options, "--format", "json"], engine=world.engines()) == 1
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert (document["exit_code"], document["error"]) == (
        1,
        "rolled back: api (unhealthy)",
    )
    assert [(o["service"], o["kind"], o["status"]) for o in document["outcomes"]] == [
        ("api", "recreate", "rolled back")
    ]
    assert document["summary"] == {"done": 0, "failed": 0, "skipped": 0, "rolled back": 1}
    assert captured.err.splitlines()[-1] == f"reconcile: {document['error']}"


def test_status_shows_each_rollback_until_an_apply_succeeds() -> None:
    records = {
        "api": Record("api", ROLLED_BACK, "unhealthy after 5 s of --wait-timeout", "12:00:01"),
        "db": Record("db", ROLLING_BACK, "unhealthy after 5 s of --wait-timeout", "12:00:02"),
        "web": Record("web", ROLLBACK_FAILED, "no container after 5 s", "12:00:03"),
    }
    assert render_status.rollback_lines(records) == [
        "Rolled back: api at 12:00:01 (unhealthy after 5 s of --wait-timeout); it runs its "
        "previous configuration until an apply succeeds.",
        "Rollback interrupted: db at 12:00:02 (unhealthy after 5 s of --wait-timeout); the next "
        "apply finishes it first.",
        "Rollback failed: web at 12:00:03 (no container after 5 s).",
    ]


def test_an_unusable_state_directory_costs_the_rollback_not_the_apply(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(places.STATE_DIR_VARIABLE, "/etc/hostname/state")  # a file's child
    world = Sick(GOOD)
    error, said = apply(world, GOOD)
    assert error is None
    assert said[-3].startswith("cannot keep the journal, so a failed apply cannot be rolled back:")
    assert "/etc/hostname/state" in said[-3]
    assert said[-2].startswith("warning: cannot write the history:")  # nor the receipt
    world.sick.add(BROKEN_HASH)
    error, said = apply(world, BAD)
    assert error is not None and error.startswith(
        "apply failed: failed to start: api (spot-api-1: running, unhealthy)"
    )
    assert "cannot roll back api: previous configuration unknown" in said


def test_a_service_whose_image_tag_now_names_another_build_is_not_put_back() -> None:
    """The journal keeps the configuration, not the image: putting the old configuration
    back on the new build would claim a rollback that did not happen."""
    world = Sick(GOOD)
    assert apply(world, GOOD)[0] is None
    world.sick.add(BROKEN_HASH)
    rebuilt = desired(
        service("db", has_healthcheck=True),
        service(
            "api",
            depends_on=["db"],
            has_healthcheck=True,
            config_hash=BROKEN_HASH,
            image_id="sha256:rebuilt",
        ),
    )
    error, said = apply(world, rebuilt)
    assert error is not None and error.startswith(
        "apply failed: failed to start: api (spot-api-1: running, unhealthy)"
    )
    assert "cannot roll back api: its image api:local now names another build" in said
    assert world.saved_models == []  # nothing was handed to Compose to put back


def test_a_service_whose_content_file_changed_since_is_not_put_back(tmp_path: Path) -> None:
    """Nor the content files: the old label on the new file would be a false rollback."""
    conf = REPO / "compose" / f".rollback-test-{tmp_path.name}.conf"
    shown = str(conf.relative_to(REPO))
    conf.write_text("listen 1\n")
    try:
        from state.model.content import file_digest

        digest = file_digest(conf, shown, "api")
        good = desired(
            service("db", has_healthcheck=True),
            service("api", depends_on=["db"], content={shown: digest}),
        )
        world = Sick(good)
        assert apply(world, good)[0] is None
        world.sick.add(BROKEN_HASH)
        conf.write_text("listen 2\n")
        error, said = apply(world, BAD)
        assert error is not None and error.startswith(
            "apply failed: failed to start: api (spot-api-1: running, unhealthy)"
        )
        assert f"cannot roll back api: {shown} changed since its last good apply" in said
        assert world.saved_models == []
    finally:
        conf.unlink(missing_ok=True)
