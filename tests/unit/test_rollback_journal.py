"""The rollback journal (reconciler/store/journal.py): where it lives, whole writes, what it
trusts."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from reconciler.store import journal, places
from reconciler.store.journal import ROLLED_BACK, ROLLING_BACK, JournalUnusable
from tests.builders import desired, service

STATE = desired(service("db", has_healthcheck=True), service("api", depends_on=["db"]))
MODEL = {"name": "spot", "services": {"db": {"image": "db:local"}}}


@pytest.fixture(autouse=True)
def private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(places.STATE_DIR_VARIABLE, str(tmp_path / "state"))


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"RECONCILE_STATE_DIR": "/s", "RECONCILE_LOCK_DIR": "/l", "HOME": "/h"}, "/s"),
        ({"RECONCILE_LOCK_DIR": "/l", "XDG_STATE_HOME": "/x", "HOME": "/h"}, "/l/state"),
        ({"XDG_RUNTIME_DIR": "/run/u", "XDG_STATE_HOME": "/x", "HOME": "/h"}, "/x/reconcile"),
        ({"HOME": "/h"}, "/h/.local/state/reconcile"),
    ],
)
def test_the_state_directory_follows_the_lock_conventions_but_persists(
    environ: dict[str, str], expected: str
) -> None:
    assert places.state_directory(environ) == Path(expected)


def test_the_journal_round_trips_privately_and_is_keyed_by_project_and_engine() -> None:
    journal.save("spot", STATE, MODEL)
    saved = journal.load("spot")
    assert saved is not None and (saved.desired, saved.model) == (STATE, MODEL)
    path = journal.project_directory("spot") / "journal.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["journal.json"]  # no partial left
    assert journal.load("other") is None
    assert journal.project_directory("spot") != journal.project_directory("other")


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        json.dumps({"kind": "something else"}),
        json.dumps({"kind": journal.KIND, "schema_version": 99}),
        json.dumps({"kind": journal.KIND, "schema_version": 1, "desired": {"x": 1}}),
    ],
)
def test_a_journal_that_is_not_ours_is_as_good_as_none(text: str) -> None:
    journal.save("spot", STATE, MODEL)
    (journal.project_directory("spot") / "journal.json").write_text(text)
    assert journal.load("spot") is None


def test_a_journal_saved_for_another_project_is_not_used() -> None:
    journal.save("spot", STATE, MODEL)
    other = journal.project_directory("other")
    other.mkdir(mode=0o700)
    (other / "journal.json").write_text(
        (journal.project_directory("spot") / "journal.json").read_text()
    )
    assert journal.load("other") is None


def test_records_keep_other_services_and_clear_on_success() -> None:
    journal.note("spot", {"api": "unhealthy"}, ROLLING_BACK)
    journal.note("spot", {"db": "no container"}, ROLLING_BACK)
    journal.note("spot", {"api": "unhealthy"}, ROLLED_BACK)
    found = journal.records("spot")
    assert {s: (r.state, r.reason) for s, r in found.items()} == {
        "api": (ROLLED_BACK, "unhealthy"),
        "db": (ROLLING_BACK, "no container"),
    }
    journal.clear("spot")
    assert journal.records("spot") == {}


def test_a_state_directory_others_can_write_is_refused_with_the_fix(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    with pytest.raises(JournalUnusable, match=r"chmod 700 .*RECONCILE_STATE_DIR"):
        journal.write_record(shared / "journal.json", "{}")
    assert not (shared / "journal.json").exists()
