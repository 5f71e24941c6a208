"""Content drift without Docker: digests from Compose's model and the `[content]` table,
the override that records them, the planner naming the file, the saved plan going
stale, and bad declarations refused with one line."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli.exit_codes import EXIT_ERROR
from reconciler.planner.plan import ActionKind, plan
from reconciler.planner.snapshot import Snapshot
from reconciler.reads.content import attach, write_override
from reconciler.reads.fingerprint import inputs
from reconciler.store.places import cache_directory
from reconciler.store.saved_plans import changes, fingerprint
from state.errors import ConfigError
from state.model import content
from state.model.desired import desire
from state.resolve.project import ComposeProject, load_project
from state.resolve.table import load_table
from tests.builders import container, desired, observed, service

TABLE = """default = "prod"

[content]
api = ["../requirements.txt"]

[environments.prod]
description = "prod"
files = ["compose.yaml"]
"""


def short(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    compose = tmp_path / "compose"
    compose.mkdir()
    (compose / "compose.yaml").write_text("services: {}\nconfigs: {}\n")
    (compose / "environments.toml").write_text(TABLE)
    (compose / "app.conf").write_text("listen 80\n")
    (compose / "token.txt").write_text("s3cret\n")
    (tmp_path / "requirements.txt").write_text("fastapi==0.110\n")
    return tmp_path


def model(directory: Path) -> dict[str, Any]:
    """What `docker compose config --format json` gives: absolute `file`s, references
    as {source: ...}; an external config and an inline `content` one have no file."""
    compose = directory / "compose"
    service = {"image": "x:local"}
    return {
        "services": {
            "web": {**service, "configs": [{"source": "app_conf"}, {"source": "ext"}]},
            "worker": {**service, "secrets": [{"source": "token"}]},
            "api": service,
            "plain": {**service, "configs": [{"source": "inline"}]},
        },
        "configs": {
            "app_conf": {"file": str(compose / "app.conf")},
            "ext": {"external": True},
            "inline": {"content": "x"},
        },
        "secrets": {"token": {"file": str(compose / "token.txt")}},
    }


def declared(directory: Path) -> dict[str, list[Path]]:
    return {"api": [directory / "compose" / "../requirements.txt"]}


def test_each_kind_of_file_is_digested_for_the_services_that_use_it(project_dir: Path) -> None:
    found = content.digests(model(project_dir), project_dir, declared(project_dir))
    assert found == {
        "api": {"requirements.txt": short(b"fastapi==0.110\n")},
        "web": {"compose/app.conf": short(b"listen 80\n")},
        "worker": {"compose/token.txt": short(b"s3cret\n")},
    }


def test_an_edit_changes_only_that_files_digest(project_dir: Path) -> None:
    before = content.digests(model(project_dir), project_dir, declared(project_dir))
    (project_dir / "compose" / "token.txt").write_text("rotated\n")
    after = content.digests(model(project_dir), project_dir, declared(project_dir))
    assert {s for s in before if before[s] != after[s]} == {"worker"}


def test_a_missing_config_file_is_one_line_naming_it(project_dir: Path) -> None:
    (project_dir / "compose" / "app.conf").unlink()
    with pytest.raises(ConfigError) as caught:
        content.digests(model(project_dir), project_dir, {})
    assert str(caught.value).startswith(
        "compose/app.conf, a file of service 'web', cannot be read (No such file or directory)"
    )
    assert "\n" not in str(caught.value)


def test_the_override_labels_each_service_and_escapes_dollars() -> None:
    text = content.override({"web": {"compose/$HOME.conf": "abc"}})
    parsed = json.loads(text)
    label = parsed["services"]["web"]["labels"][content.LABEL]
    assert label == '{"compose/$$HOME.conf":"abc"}'  # Compose reads `$$` as `$`
    assert content.recorded({content.LABEL: label.replace("$$", "$")}) == {
        "compose/$HOME.conf": "abc"
    }


@pytest.mark.parametrize("value", [None, "", "not json", "[1]"])
def test_an_absent_or_foreign_label_records_nothing(value: str | None) -> None:
    labels = {} if value is None else {content.LABEL: value}
    assert content.recorded(labels) == {}


def test_the_override_is_content_addressed_and_rewritten_whole(tmp_path: Path) -> None:
    first = write_override("a\n", tmp_path)
    assert first == write_override("a\n", tmp_path)
    second = write_override("b\n", tmp_path)
    assert second != first and first.read_text() == "a\n" and second.read_text() == "b\n"
    first.write_text("tampered")
    assert write_override("a\n", tmp_path).read_text() == "a\n"
    assert not list((tmp_path / "content").glob(".*partial"))


def test_the_cache_directory_follows_the_environment() -> None:
    assert cache_directory({"RECONCILE_CACHE_DIR": "/c"}) == Path("/c")
    assert cache_directory({"RECONCILE_LOCK_DIR": "/l"}) == Path("/l")  # beside the locks
    assert cache_directory({"XDG_RUNTIME_DIR": "/run/u"}) == Path("/run/u/reconcile")


def test_the_override_folder_must_be_the_users_alone(tmp_path: Path) -> None:
    """Another user who can write there could swap the file Compose reads."""
    shared = tmp_path / "shared"
    (shared / "content").mkdir(parents=True)
    (shared / "content").chmod(0o777)
    with pytest.raises(ConfigError, match=r"cache directory .* is writable by others"):
        write_override("services: {}\n", shared / "content")
    assert list((shared / "content").iterdir()) == []


def test_the_planner_names_the_changed_file() -> None:
    want = service("web", config_hash="h2", content={"compose/app.conf": "d2", "b.txt": "d"})
    had = container("web", config_hash="h1", content={"compose/app.conf": "d1", "b.txt": "d"})
    (action,) = plan(desired(want), observed(had)).actions
    assert action.kind is ActionKind.RECREATE
    assert action.reasons == ("content of compose/app.conf changed",)


@pytest.mark.parametrize(
    "had",
    [
        pytest.param({}, id="no-label-yet"),
        pytest.param({"compose/app.conf": "d2", "gone.txt": "d"}, id="a-file-is-no-longer-used"),
        pytest.param({"compose/app.conf": "d2"}, id="same-digests-other-change"),
    ],
)
def test_other_config_hash_changes_are_configuration_changes(had: dict[str, str]) -> None:
    want = service("web", config_hash="h2", content={"compose/app.conf": "d2"})
    old = container("web", config_hash="h1", content=had)
    (action,) = plan(desired(want), observed(old)).actions
    assert action.reasons == ("configuration changed",)


def test_matching_hashes_mean_no_action_whatever_the_labels_say() -> None:
    want = service("web", config_hash="h", content={"compose/app.conf": "d2"})
    old = container("web", config_hash="h", content={"compose/app.conf": "d1"})
    assert plan(desired(want), observed(old)).is_empty


def test_the_table_declares_content_per_service(project_dir: Path) -> None:
    table = load_table(project_dir / "compose")
    assert table.content == {"api": ("../requirements.txt",)}


@pytest.mark.parametrize(
    ("table", "fragment"),
    [
        pytest.param(
            TABLE.replace("../requirements.txt", "../missing.txt"),
            "content of service 'api' names '../missing.txt', which is not a file in",
            id="missing-file",
        ),
        pytest.param(
            TABLE.replace('["../requirements.txt"]', '"../requirements.txt"'),
            "is malformed at content.api",
            id="not-a-list",
        ),
    ],
)
def test_a_bad_content_table_is_one_line_naming_the_fix(
    project_dir: Path, table: str, fragment: str
) -> None:
    (project_dir / "compose" / "environments.toml").write_text(table)
    with pytest.raises(ConfigError) as caught:
        load_table(project_dir / "compose")
    message = str(caught.value)
    assert fragment in message and "fix" in message and "\n" not in message


def test_the_cli_refuses_a_missing_declared_file(
    project_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from reconciler.cli.main import main

    (project_dir / "requirements.txt").unlink()
    assert main(["--plan", "--project-directory", str(project_dir)]) == EXIT_ERROR
    err = capsys.readouterr().err.strip()
    assert "content of service 'api' names '../requirements.txt'" in err
    assert "Traceback" not in err and len(err.splitlines()) == 1


class Source:
    """Compose's answers for a tiny project: the model, plus hashes that (like Compose's)
    change with the override's labels."""

    def __init__(self, project: ComposeProject, base: dict[str, Any]) -> None:
        self.project, self.base, self.model_calls = project, base, 0

    def compose_model(self) -> dict[str, Any]:
        self.model_calls += 1
        model: dict[str, Any] = json.loads(json.dumps(self.base))
        if self.project.content_override:
            labels = json.loads(self.project.content_override.read_text().replace("$$", "$"))
            for name, extra in labels["services"].items():
                model["services"][name]["labels"] = extra["labels"]
        return model

    def config_hashes(self) -> dict[str, str]:
        model = self.compose_model()
        return {
            n: hashlib.sha256(json.dumps(s).encode()).hexdigest()
            for n, s in model["services"].items()
        }

    def service_names_in_any_profile(self) -> frozenset[str]:
        return frozenset(self.base["services"])

    def declared_profiles(self) -> frozenset[str]:
        return frozenset()

    def image_ids(self, references: Any) -> dict[str, str]:
        return {"x:local": "sha256:x"}

    def use_content_override(self, path: Path) -> None:
        self.project = replace(self.project, content_override=path)


def test_attach_adds_the_override_and_the_desired_state_carries_the_digests(
    project_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECONCILE_CACHE_DIR", str(tmp_path / "cache"))
    base = model(project_dir)
    project = load_project(project_dir, process_env={})
    source = Source(project, base)
    attached = attach(project, source)
    assert attached.files[:-1] == project.files
    assert attached.files[-1] == attached.content_override
    assert attached.content_override and attached.content_override.is_relative_to(
        tmp_path / "cache"
    )
    state = desire(attached, source)
    assert state.services["web"].content == {"compose/app.conf": short(b"listen 80\n")}
    assert state.services["plain"].content == {}
    # The saved plan's inputs name the compose files, not the generated override ...
    assert not any("cache" in name for name in inputs(attached).files)
    # ... and its fingerprint names an edited content file.
    snap = Snapshot(desired=state, observed=observed(), plan=plan(state, observed()))
    (project_dir / "compose" / "app.conf").write_text("listen 8080\n")
    source2 = Source(project, base)
    again = attach(project, source2)
    now = Snapshot(desired=desire(again, source2), observed=observed(), plan=snap.plan)
    lines = changes(
        fingerprint(snap, inputs(attached), "compose"), fingerprint(now, inputs(again), "compose")
    )
    assert lines == ["content of compose/app.conf changed"]


def test_a_project_whose_files_cannot_name_a_content_file_costs_no_compose_call(
    tmp_path: Path,
) -> None:
    compose = tmp_path / "compose"
    compose.mkdir()
    (compose / "compose.yaml").write_text("services:\n  a:\n    image: x:local\n")
    (compose / "environments.toml").write_text(TABLE.split("[content]")[0] + TABLE.split("\n\n")[2])
    project = load_project(tmp_path, process_env={})
    source = Source(project, {"services": {"a": {"image": "x:local"}}})
    attached = attach(project, source)
    assert attached == project and source.model_calls == 0
