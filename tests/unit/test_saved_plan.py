"""Saved plans (reconciler/store/saved_plans.py): the file format and the fingerprint comparison.

Each field of the fingerprint, changed alone, makes the plan stale with its own line;
a plan of another project or directory is refused; files of another kind, version or
shape are refused with one line; no variable's value ever reaches the file.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from reconciler.cli.exit_codes import EXIT_ERROR, EXIT_USAGE
from reconciler.cli.main import main
from reconciler.planner.plan import Strategy, plan
from reconciler.planner.snapshot import Snapshot
from reconciler.reads.fingerprint import inputs
from reconciler.store.saved_plans import (
    SCHEMA_VERSION,
    Fingerprint,
    Inputs,
    SavedPlan,
    StalePlan,
    changes,
    check,
    differences,
    fingerprint,
    load,
    save,
)
from state.engine import ContainerStatus
from state.errors import ConfigError
from state.model.observed import ObservedContainer
from state.resolve.appenv import ResolvedAppEnv, Source
from state.resolve.project import COMPOSE_DIR, load_project
from tests.builders import container, desired, observed, service
from tests.memory_engine import MemoryEngine

REPO = Path(__file__).resolve().parents[2]
INPUTS = Inputs(
    directory="/srv/spot",
    files={"compose/environments.toml": "t1", "compose/compose.yaml": "c1", ".env": "e1"},
    variables={"API_PORT": "p1", "POSTGRES_PASSWORD": "s1"},
)


def snap(*containers: ObservedContainer) -> Snapshot:
    want = desired(service("db"), service("api", depends_on=["db"]))
    seen = observed(*containers)
    return Snapshot(desired=want, observed=seen, plan=plan(want, seen))


BASE = snap(container("db"), container("api", status=ContainerStatus.EXITED))
SAVED = fingerprint(BASE, INPUTS, "compose")


def test_an_unchanged_world_has_no_changes() -> None:
    assert changes(SAVED, fingerprint(BASE, INPUTS, "compose")) == []


@pytest.mark.parametrize(
    ("now", "line"),
    [
        (
            fingerprint(snap(container("db"), container("api")), INPUTS, "compose"),
            "container spot-api-1 changed state: exited -> running",
        ),
        (
            fingerprint(
                snap(container("db", cid="other"), container("api", status=ContainerStatus.EXITED)),
                INPUTS,
                "compose",
            ),
            "container spot-db-1 was replaced (id id-db-1 -> other)",
        ),
        (
            fingerprint(
                snap(
                    container("db", config_hash="x"),
                    container("api", status=ContainerStatus.EXITED),
                ),
                INPUTS,
                "compose",
            ),
            "container spot-db-1 changed config hash",
        ),
        (
            fingerprint(
                snap(
                    container("db", image_id="sha256:b"),
                    container("api", status=ContainerStatus.EXITED),
                ),
                INPUTS,
                "compose",
            ),
            "container spot-db-1 changed image",
        ),
        (
            fingerprint(snap(container("api", status=ContainerStatus.EXITED)), INPUTS, "compose"),
            "container spot-db-1 (id id-db-1) is gone",
        ),
        (
            fingerprint(
                snap(
                    container("db"),
                    container("db", 2),
                    container("api", status=ContainerStatus.EXITED),
                ),
                INPUTS,
                "compose",
            ),
            "container spot-db-2 (id id-db-2) appeared",
        ),
        (
            SAVED.model_copy(update={"files": {**SAVED.files, "compose/compose.yaml": "c2"}}),
            "compose/compose.yaml changed",
        ),
        (
            SAVED.model_copy(
                update={"files": {k: v for k, v in SAVED.files.items() if k != ".env"}}
            ),
            ".env is gone",
        ),
        (
            SAVED.model_copy(update={"files": {**SAVED.files, "compose/compose.dev.yaml": "d"}}),
            "compose/compose.dev.yaml appeared",
        ),
        (
            SAVED.model_copy(update={"variables": {**SAVED.variables, "API_PORT": "p2"}}),
            "variable API_PORT changed",
        ),
        (
            SAVED.model_copy(update={"variables": {**SAVED.variables, "NEW": "unset"}}),
            "variable NEW is now used",
        ),
        (
            SAVED.model_copy(update={"images": {**SAVED.images, "db": "sha256:new"}}),
            "the image of service db changed",
        ),
        (
            SAVED.model_copy(update={"images": {"db": SAVED.images["db"]}}),
            "service api is no longer wanted",
        ),
        (
            SAVED.model_copy(update={"app_env": "dev", "app_env_source": "from .env:1"}),
            "APP_ENV: prod (the default) -> dev (from .env:1)",
        ),
    ],
)
def test_each_changed_field_is_named(now: Fingerprint, line: str) -> None:
    assert changes(SAVED, now) == [line]
    with pytest.raises(StalePlan, match=f"stale: {re.escape(line)}; nothing was changed"):
        check(
            SavedPlan(strategy=Strategy.CHANGED, fingerprint=SAVED, plan=BASE.plan), now, BASE.plan
        )


def test_the_source_of_app_env_alone_counts() -> None:
    env_file = ResolvedAppEnv(name="prod", source=Source.ENV_FILE, path=Path(".env"), line=1)
    want = replace(BASE.desired, app_env=env_file)
    now = fingerprint(
        Snapshot(desired=want, observed=BASE.observed, plan=BASE.plan), INPUTS, "compose"
    )
    assert changes(SAVED, now) == ["APP_ENV: prod (the default) -> prod (from .env:1)"]


@pytest.mark.parametrize("field", ["project", "directory"])
def test_a_plan_of_another_project_or_directory_is_refused(field: str) -> None:
    saved = SavedPlan(strategy=Strategy.CHANGED, fingerprint=SAVED, plan=BASE.plan)
    now = SAVED.model_copy(update={field: "elsewhere"})
    with pytest.raises(ConfigError, match="the plan is for project spot in /srv/spot, not"):
        check(saved, now, BASE.plan)
    check(saved, SAVED, BASE.plan)  # its own project: accepted


def test_the_file_round_trips() -> None:
    text = save(BASE, INPUTS, Strategy.CHANGED, "compose")
    loaded = load(text, "plan.json")
    assert json.loads(text)["schema_version"] == SCHEMA_VERSION
    assert loaded.plan == BASE.plan
    assert loaded.fingerprint == SAVED
    assert not BASE.plan.is_empty


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "plan.json is not JSON"),
        ('{"kind": "something"}', "plan.json is not a saved plan"),
        ('{"kind": "reconcile-saved-plan", "schema_version": 99}', "schema_version 99"),
        ('{"kind": "reconcile-saved-plan", "schema_version": 1}', "reads 2: make a new plan"),
        ('{"kind": "reconcile-saved-plan", "schema_version": 2}', "malformed at strategy"),
    ],
)
def test_other_files_are_refused_with_one_line(text: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem) as caught:
        load(text, "plan.json")
    assert "\n" not in str(caught.value)


def test_no_variable_value_reaches_the_file(tmp_path: Path) -> None:
    shutil.copytree(REPO / COMPOSE_DIR, tmp_path / COMPOSE_DIR)
    (tmp_path / ".env").write_text("APP_ENV=dev\n")
    secret = "hunter2-very-secret"
    env = {"POSTGRES_PASSWORD": secret, "API_PORT": "18080"}
    project = load_project(tmp_path, process_env=env)
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        found = inputs(project)
        patch.setenv("POSTGRES_PASSWORD", "changed")
        changed = inputs(project)
    assert {"POSTGRES_PASSWORD", "API_PORT", "APP_ENV"} <= set(found.variables)
    assert set(found.files) == {
        "compose/environments.toml",
        "compose/compose.yaml",
        "compose/compose.dev.yaml",
        ".env",
    }
    text = save(BASE, found, Strategy.CHANGED, "compose")
    assert secret not in text and "18080" not in text
    now = SAVED.model_copy(update={"variables": changed.variables})
    assert changes(SAVED.model_copy(update={"variables": found.variables}), now) == [
        "variable POSTGRES_PASSWORD changed"
    ]


def _engine() -> MemoryEngine:
    engine = MemoryEngine(desired(service("db")))
    engine.add("db")
    return engine


@pytest.mark.parametrize(
    ("argv", "code", "problem"),
    [
        (["--out", "{dir}/p.json"], EXIT_USAGE, "--out saves a plan: use it with --plan"),
        (["--out", "{dir}/p.json", "status"], EXIT_USAGE, "--out saves the plan of"),
        (["apply", "{dir}/missing.json"], EXIT_ERROR, "cannot read plan file"),
        (["apply", "{dir}/bad.json"], EXIT_ERROR, "is not a saved plan"),
        (["--plan", "--out", "{dir}/no/such/dir/p.json"], EXIT_ERROR, "cannot write plan file"),
    ],
)
def test_bad_input_is_one_line_and_touches_nothing(
    argv: list[str], code: int, problem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.json").write_text('{"kind": "a terraform plan"}')
    engine = _engine()
    line = [part.format(dir=tmp_path) for part in argv]
    options = ["--project-directory", str(REPO), "--project-name", "spot"]
    assert main([*line, *options], engine=lambda project: engine) == code
    err = capsys.readouterr().err
    assert problem in err and "Traceback" not in err
    assert engine.writes == []
    assert not (tmp_path / "p.json").exists()


@pytest.mark.parametrize("argv", [["restart", "--plan"], ["--plan", "restart"]])
def test_a_saved_restart_plan_recreates_everything_when_applied(
    argv: list[str], tmp_path: Path
) -> None:
    engine = MemoryEngine(desired(service("db"), service("api", depends_on=["db"])))
    before = {engine.add("db").id, engine.add("api").id}
    options = ["--project-directory", str(REPO), "--project-name", "spot", "--no-wait"]
    out = str(tmp_path / "restart.json")
    assert main([*argv, "--out", out, *options], engine=lambda project: engine) == 2
    assert engine.writes == []
    assert load((tmp_path / "restart.json").read_text(), out).strategy is Strategy.ALWAYS
    assert main(["apply", out, *options], engine=lambda project: engine) == 0
    assert not before & set(engine.containers_by_id)  # every container is a new one
    assert main(["apply", out, *options], engine=lambda project: engine) == EXIT_ERROR


def test_editing_a_file_compose_reads_is_a_change(tmp_path: Path) -> None:
    shutil.copytree(REPO / COMPOSE_DIR, tmp_path / COMPOSE_DIR)
    (tmp_path / ".env").write_text("API_PORT=18080\n")
    project = load_project(tmp_path, process_env={})
    first = SAVED.model_copy(update={"files": inputs(project).files})
    (tmp_path / ".env").write_text("API_PORT=18081\n")
    with (tmp_path / COMPOSE_DIR / "compose.yaml").open("a") as compose:
        compose.write("# edited\n")
    now = SAVED.model_copy(update={"files": inputs(project).files})
    assert changes(first, now) == [".env changed", "compose/compose.yaml changed"]


def test_an_action_a_fresh_plan_would_not_take_is_stale_whatever_the_fingerprint() -> None:
    """A saved plan is applied only if a fresh plan takes exactly its actions."""
    saved = SavedPlan(strategy=Strategy.CHANGED, fingerprint=SAVED, plan=BASE.plan)
    fresh = snap(container("db"), container("api")).plan  # api started meanwhile
    with pytest.raises(StalePlan, match=r"it would start spot-api-1, which a fresh plan does not"):
        check(saved, SAVED, fresh)
    assert differences(BASE.plan, BASE.plan) == []


def test_the_catch_all_names_a_configuration_nothing_else_explains() -> None:
    """What env_file, include, extends or `$$` change shows in Compose's config hash only."""
    now = SAVED.model_copy(update={"config_hashes": {**SAVED.config_hashes, "db": "other"}})
    assert changes(SAVED, now) == [
        "the configuration of service db changed (as Compose resolves it)"
    ]
    moved = SAVED.model_copy(update={"backend": "swarm (manager m, registry r)"})
    assert changes(SAVED, moved) == ["backend: compose -> swarm (manager m, registry r)"]


def test_a_variable_is_digested_as_compose_sees_it_through_the_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`API_PORT=${PORT:-8080}` in .env: PORT in the shell moves the published port."""
    shutil.copytree(REPO / COMPOSE_DIR, tmp_path / COMPOSE_DIR)
    (tmp_path / ".env").write_text("API_PORT=${PORT:-8080}\n")
    monkeypatch.delenv("PORT", raising=False)
    monkeypatch.delenv("API_PORT", raising=False)
    unset = inputs(load_project(tmp_path, process_env={})).variables["API_PORT"]
    assert unset != "unset", "Compose sees 8080 from .env"
    monkeypatch.setenv("PORT", "9090")  # the next command runs in a shell with PORT set
    moved = inputs(load_project(tmp_path, process_env={"PORT": "9090"})).variables["API_PORT"]
    assert moved != unset


def test_a_tampered_plan_file_is_refused_and_touches_nothing(tmp_path: Path) -> None:
    """A `remove` of another project's container added to the file: refused, exit 1."""
    engine = MemoryEngine(desired(service("db")))
    engine.add("db")
    other = engine.add("db", project="neighbour")
    options = ["--project-directory", str(REPO), "--project-name", "spot", "--no-wait"]
    out = tmp_path / "plan.json"
    assert main(["--plan", "--out", str(out), *options], engine=lambda project: engine) in (0, 2)
    document = json.loads(out.read_text())
    document["plan"]["actions"].append(
        {"kind": "remove", "service": "db", "number": 1, "reasons": ["tampered"],
         "container": other.name, "container_id": other.id, "wave": 1}
    )  # fmt: skip
    out.write_text(json.dumps(document))
    writes = len(engine.writes)
    assert main(["apply", str(out), *options], engine=lambda project: engine) == EXIT_ERROR
    assert engine.writes[writes:] == [] and other.id in engine.containers_by_id
