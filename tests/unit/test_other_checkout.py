"""Two checkouts with one directory name are one Compose project: writes from the one
that did not make the containers are refused, naming both directories and the way out
(reconciler/planner/ownership.py); --take-over takes the project over on purpose; plans
and status say so."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.planner.ownership import other_checkout
from state.engine import WORKING_DIR_LABEL
from tests.builders import container, desired, observed, service
from tests.memory_engine import MemoryEngine

REPO = Path(__file__).resolve().parents[2]
ELSEWHERE = "/home/someone/review/spot/compose"


def there(directory: str) -> bool:
    return True


def test_a_container_made_outside_this_checkout_belongs_to_another() -> None:
    mine = container("db", working_dir=str(REPO / "compose"))
    theirs = container("api", working_dir=ELSEWHERE)
    unlabelled = container("web")
    assert other_checkout(observed(mine, unlabelled), REPO, there) is None
    assert other_checkout(observed(mine, theirs), REPO, there) == ELSEWHERE


def test_a_checkout_that_no_longer_exists_is_nobody_elses(tmp_path: Path) -> None:
    """A moved or deleted checkout (or a machine's leftover) cannot be using the
    project any more: its containers are taken over, as Compose would."""
    gone = container("api", working_dir=str(tmp_path / "moved" / "compose"))
    assert other_checkout(observed(gone), REPO) is None
    (tmp_path / "moved" / "compose").mkdir(parents=True)
    assert other_checkout(observed(gone), REPO) == str(tmp_path / "moved" / "compose")


@pytest.fixture(autouse=True)
def elsewhere_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    """ELSEWHERE stands for a checkout that is still on disk."""
    real = Path.is_dir
    monkeypatch.setattr(Path, "is_dir", lambda path: str(path) == ELSEWHERE or real(path))


def world() -> MemoryEngine:
    engine = MemoryEngine(desired(service("db"), service("api")))
    engine.add("db").labels[WORKING_DIR_LABEL] = ELSEWHERE
    engine.add("api", config_hash="stale").labels[WORKING_DIR_LABEL] = ELSEWHERE
    return engine


@pytest.mark.parametrize(
    "argv", [[], ["restart"], ["stop"], ["down"], ["down", "--volumes", "--yes"]]
)
def test_every_write_is_refused_naming_both_directories_and_the_fix(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    engine = world()
    options = ["--project-directory", str(REPO), "--project-name", "spot", "--no-wait"]
    if argv[:1] in (["stop"], ["down"]):
        options.remove("--no-wait")
    assert main([*argv, *options], engine=lambda project: engine) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert ELSEWHERE in err and str(REPO) in err
    assert "--project-name" in err and "--take-over" in err
    assert engine.writes == []


def test_take_over_acts_on_purpose_and_plans_and_status_warn(
    capsys: pytest.CaptureFixture[str],
) -> None:
    engine = world()
    options = ["--project-directory", str(REPO), "--project-name", "spot"]
    assert main(["--plan", *options], engine=lambda project: engine) == 2
    assert "runs from another checkout" in capsys.readouterr().err
    assert main(["status", *options], engine=lambda project: engine) == 0
    assert "runs from another checkout" in capsys.readouterr().err
    assert engine.writes == []
    before = set(engine.containers_by_id)
    assert main([*options, "--no-wait", "--take-over"], engine=lambda project: engine) == 0
    assert not before & set(engine.containers_by_id), "taking over recreates from here"
    assert main(["--plan", *options], engine=lambda project: engine) == 0
