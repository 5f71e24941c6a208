"""The CLI's contract: exit codes, one-line errors, and the JSON documents' keys.

These call the real entry point (`reconciler.cli.main.main`) with argv, as `reconcile`
does; nothing here needs Docker, because each case fails or finishes before the
engine is asked anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.cli.exit_codes import EXIT_ERROR, EXIT_USAGE
from reconciler.cli.main import main
from reconciler.planner.plan import ActionKind, plan
from reconciler.planner.snapshot import Snapshot
from reconciler.render import plans
from reconciler.render import status as render_status
from state.errors import ConfigError
from tests.builders import container, desired, observed, service
from tests.memory_engine import MemoryEngine

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def private_lock_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECONCILE_LOCK_DIR", str(tmp_path))


def test_usage_error_exits_64_never_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--no-such-option"]) == EXIT_USAGE
    assert "No such option" in capsys.readouterr().err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "reconcile --plan" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["--plan"], ["status"], ["--plan", "--format", "json"]])
def test_invalid_app_env_is_one_line_and_exit_1(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("APP_ENV", "Prod")
    assert main([*argv, "--project-directory", str(REPO)]) == EXIT_ERROR
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "reconcile: APP_ENV='Prod' (from the command line) is not an environment: "
        "use one of prod, dev, test (did you mean 'prod'?)\n"
    )


def test_missing_project_directory_says_how_to_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--plan", "--project-directory", str(tmp_path)]) == EXIT_ERROR
    assert "--project-directory" in capsys.readouterr().err


def snapshot_of(desired_state, observed_state) -> Snapshot:  # type: ignore[no-untyped-def]
    return Snapshot(
        desired=desired_state,
        observed=observed_state,
        plan=plan(desired_state, observed_state),
    )


def test_plan_text_when_converged() -> None:
    snap = snapshot_of(desired(service("db")), observed(container("db")))
    assert plans.plan_text(snap).splitlines() == [
        "APP_ENV=prod (the default) · project spot · profiles: none",
        "No changes. The stack matches APP_ENV=prod.",
    ]


def test_plan_text_lists_waves_reasons_and_summary() -> None:
    snap = snapshot_of(
        desired(service("db", env="dev"), service("api", env="dev", depends_on=["db"]), env="dev"),
        observed(container("db", env="prod")),
    )
    text = plans.plan_text(snap)
    assert "~ recreate  spot-db-1" in text and "APP_ENV prod -> dev" in text
    assert (
        text.index("wave 1:") < text.index("spot-db-1") < text.index("wave 2:") < text.index("api")
    )
    assert text.endswith("Plan: 1 to create, 1 to recreate, 0 to remove.")


def test_plan_json_keys_are_pinned() -> None:
    import json

    snap = snapshot_of(desired(service("db")), observed())
    document = json.loads(plans.plan_json(snap))
    assert set(document) == {
        "schema_version",
        "command",
        "project",
        "app_env",
        "profiles",
        "converged",
        "actions",
        "noops",
        "summary",
        "guards",
        "downtime",  # 6: the predicted unavailability
    }
    assert document["schema_version"] == 7
    assert set(document["summary"]) == {k.value for k in ActionKind}
    assert set(document["actions"][0]) == {
        "wave",
        "kind",
        "service",
        "number",
        "container",
        "container_id",
        "reasons",
        "old_hash",
        "new_hash",
        "start_first",  # 7: a recreate that starts the new container first
        "downtime",
    }


def test_status_json_keys_are_pinned() -> None:
    import json

    snap = snapshot_of(desired(service("db")), observed(container("db"), container("old")))
    document = json.loads(render_status.status_json(snap))
    assert set(document) == {
        "schema_version",
        "command",
        "project",
        "app_env",
        "running_environments",
        "in_sync",
        "services",
        "note",
        "rollbacks",
    }
    rows = {row["service"]: row for row in document["services"]}
    assert rows["old"]["verdict"] == "would remove"
    assert rows["old"]["reasons"] == ["not in the compose files"]
    assert rows["db"]["verdict"] == "in sync"


def test_teardown_json_keys_are_pinned() -> None:
    import json

    from reconciler.planner.plan import teardown_plan
    from reconciler.planner.snapshot import Teardown

    world = observed(container("db"), container("api", depends_on=["db"]))
    teardown = Teardown(
        "down",
        "spot",
        world,
        teardown_plan(world, ActionKind.REMOVE, "down"),
        networks=("spot_default",),
        kept_volumes=("spot_db-data",),
    )
    document = json.loads(plans.teardown_json(teardown))
    assert set(document) == {
        "schema_version",
        "command",
        "project",
        "converged",
        "actions",
        "networks",
        "volumes",
        "guards",
    }
    assert (document["schema_version"], document["command"], document["converged"]) == (
        7,
        "down",
        False,
    )
    assert [(a["wave"], a["kind"], a["service"]) for a in document["actions"]] == [
        (1, "remove", "api"),
        (2, "remove", "db"),
    ]
    assert document["networks"] == {"remove": ["spot_default"], "keep": []}
    assert document["volumes"] == {"remove": [], "keep": ["spot_db-data"]}


class BrokenFiles(MemoryEngine):
    """Compose cannot read the files (or the images are gone): every ComposeSource call fails."""

    def compose_model(self) -> dict[str, Any]:
        raise ConfigError("docker compose config failed: yaml: line 3: bad indentation")


def broken_world() -> BrokenFiles:
    engine = BrokenFiles(desired(service("db"), service("api", depends_on=["db"])))
    engine.add("db")
    engine.add("api", depends_on=["db"])
    return engine


@pytest.mark.parametrize(
    ("argv", "code", "expected"),
    [
        (
            ["stop", "--plan"],
            2,
            "Plan: 2 to stop.\nPredicted unavailability: each service "
            "stopped stays down until it is started again",
        ),
        (
            ["down", "--plan"],
            2,
            "Plan: 2 to remove, 0 network(s), 0 volume(s).\nPredicted "
            "unavailability: each service removed stays down until the next `reconcile`",
        ),
        (["stop"], 0, "x stop      spot-api-1"),
        (["down"], 0, "Removed 2 container(s) and 0 network(s)."),
        (["status"], 0, "Cannot tell what should run: docker compose config failed"),
    ],
)
def test_teardown_and_status_work_when_the_compose_files_are_broken(
    argv: list[str], code: int, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = broken_world()
    options = ["--project-directory", str(REPO), "--project-name", "spot"]
    assert main([*argv, *options], engine=lambda project: engine) == code
    out = capsys.readouterr().out
    assert expected in out, out
    if argv == ["status"]:
        assert out.count(" unknown") == 2  # one row per container, its verdict unknown


def test_logs_need_only_the_name_and_refuse_a_service_with_no_container(
    capsys: pytest.CaptureFixture[str],
) -> None:
    engine = broken_world()
    options = ["--project-directory", str(REPO), "--project-name", "spot"]
    assert main(["logs", "db", "--tail", "5", *options], engine=lambda project: engine) == 0
    assert engine.calls[-1] == ("stream_logs", ("spot", "db"))
    assert main(["logs", "dbx", *options], engine=lambda project: engine) == EXIT_ERROR
    assert "no such service: dbx has no container in project spot" in capsys.readouterr().err
    assert [call for call in engine.calls if call[0] == "stream_logs"] == [
        ("stream_logs", ("spot", "db"))
    ]


APPLY_KEYS = {
    "schema_version",
    "command",
    "project",
    "app_env",
    "profiles",
    "exit_code",
    "error",
    "seconds",
    "converged",
    "outcomes",
    "summary",
    "remaining",
}


def apply_json(
    engine: MemoryEngine, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, Any], str]:
    import json

    options = ["--project-directory", str(REPO), "--project-name", "spot", "--format", "json"]
    code = main([*argv, *options, "--no-wait"], engine=lambda project: engine)
    captured = capsys.readouterr()
    document: dict[str, Any] = json.loads(captured.out)  # exactly one document, nothing else
    return code, document, captured.err


def test_apply_json_keys_are_pinned_and_progress_goes_to_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    engine = MemoryEngine(desired(service("db"), service("api", depends_on=["db"])))
    code, document, err = apply_json(engine, [], capsys)
    assert code == 0
    assert set(document) == APPLY_KEYS
    assert (document["schema_version"], document["command"], document["project"]) == (
        7,
        "apply",
        "spot",
    )
    assert set(document["app_env"]) == {"name", "source", "path", "line", "description"}
    assert (document["exit_code"], document["error"], document["converged"]) == (0, None, True)
    assert document["summary"] == {"done": 2, "failed": 0, "skipped": 0, "rolled back": 0}
    assert [(o["wave"], o["kind"], o["service"], o["status"]) for o in document["outcomes"]] == [
        (1, "create", "db", "done"),
        (2, "create", "api", "done"),
    ]
    assert set(document["outcomes"][0]) == {
        "wave",
        "kind",
        "service",
        "number",
        "container",
        "container_id",
        "reasons",
        "old_hash",
        "new_hash",
        "start_first",
        "status",
        "seconds",
        "error",
    }
    assert document["remaining"] == []
    assert "Applying:" in err and "Converged" in err
    # a second run: nothing to do, still one document
    code, again, _ = apply_json(engine, [], capsys)
    assert (code, again["outcomes"], again["converged"]) == (0, [], True)


def test_apply_json_on_failure_still_prints_the_document_with_exit_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.memory_engine import Fault

    engine = MemoryEngine(desired(service("db"), service("api", depends_on=["db"])))
    engine.faults.append(Fault("up", transient=False, service="db"))
    code, document, err = apply_json(engine, [], capsys)
    assert code == EXIT_ERROR == document["exit_code"]
    assert document["error"].startswith("apply failed: injected permanent failure of up db")
    assert document["summary"] == {"done": 0, "failed": 1, "skipped": 1, "rolled back": 0}
    assert [(o["service"], o["status"]) for o in document["outcomes"]] == [
        ("db", "failed"),
        ("api", "skipped"),
    ]
    assert document["converged"] is False
    assert {a["service"] for a in document["remaining"]} == {"db", "api"}
    assert err.endswith(f"reconcile: {document['error']}\n")


def test_apply_json_when_it_does_not_converge(capsys: pytest.CaptureFixture[str]) -> None:
    engine = MemoryEngine(desired(service("db")))
    engine.silent.add("up")  # the engine says done and does nothing
    code, document, err = apply_json(engine, [], capsys)
    assert (code, document["exit_code"], document["converged"]) == (1, 1, False)
    assert document["summary"]["done"] == 1
    assert document["error"].startswith("did not converge")
    assert "did not converge" in err


def test_restart_json_names_its_command_and_stops_first(capsys: pytest.CaptureFixture[str]) -> None:
    engine = MemoryEngine(desired(service("db")))
    engine.add("db")
    code, document, _ = apply_json(engine, ["restart"], capsys)
    assert (code, document["command"], document["converged"]) == (0, "restart", True)
    assert [(o["kind"], o["status"]) for o in document["outcomes"]] == [
        ("stop", "done"),
        ("recreate", "done"),
    ]
