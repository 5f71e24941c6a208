"""`stop` and `down` with `--format json`: one document on stdout when they end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli.exit_codes import EXIT_ERROR
from reconciler.cli.main import main
from tests.builders import desired, service
from tests.memory_engine import Fault, MemoryEngine

REPO = Path(__file__).resolve().parents[2]
KEYS = {
    "schema_version",
    "command",
    "project",
    "exit_code",
    "error",
    "seconds",
    "outcomes",
    "summary",
    "networks",
    "volumes",
}


@pytest.fixture(autouse=True)
def private_lock_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECONCILE_LOCK_DIR", str(tmp_path))


def world() -> MemoryEngine:
    engine = MemoryEngine(desired(service("db"), service("api", depends_on=["db"])))
    engine.add("db")
    engine.add("api", depends_on=["db"])
    return engine


def run(
    engine: MemoryEngine, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, Any], str]:
    options = ["--project-directory", str(REPO), "--project-name", "spot", "--format", "json"]
    code = main([*argv, *options], engine=lambda project: engine)
    captured = capsys.readouterr()
    document: dict[str, Any] = json.loads(captured.out)  # exactly one document
    return code, document, captured.err


@pytest.mark.parametrize(("command", "kind"), [("stop", "stop"), ("down", "remove")])
def test_keys_are_pinned_and_progress_goes_to_stderr(
    command: str, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, document, err = run(world(), [command], capsys)
    assert code == 0
    assert set(document) == KEYS
    assert (document["schema_version"], document["command"], document["project"]) == (
        7,
        command,
        "spot",
    )
    assert (document["exit_code"], document["error"]) == (0, None)
    assert [(o["wave"], o["kind"], o["service"], o["status"]) for o in document["outcomes"]] == [
        (1, kind, "api", "done"),
        (2, kind, "db", "done"),
    ]
    assert document["summary"] == {"done": 2, "failed": 0, "skipped": 0, "rolled back": 0}
    assert set(document["networks"]) == set(document["volumes"]) == {"removed", "kept"}
    assert "Applying:" in err


def test_stop_with_nothing_running_is_an_empty_document(
    capsys: pytest.CaptureFixture[str],
) -> None:
    engine = MemoryEngine(desired(service("db")))
    code, document, _ = run(engine, ["stop"], capsys)
    assert (code, document["outcomes"], document["exit_code"]) == (0, [], 0)


def test_a_failed_stop_still_prints_the_document_with_exit_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    engine = world()
    engine.faults.append(Fault("stop", transient=False, service="api"))
    code, document, err = run(engine, ["stop"], capsys)
    assert code == EXIT_ERROR == document["exit_code"]
    assert document["error"].startswith("stop failed: injected permanent failure of stop api")
    assert [(o["service"], o["status"]) for o in document["outcomes"]] == [
        ("api", "failed"),
        ("db", "skipped"),
    ]
    assert err.endswith(f"reconcile: {document['error']}\n")
