"""`reconcile init` and `reconcile doctor` through the CLI, on a fake Compose that answers
from the files' profiles (the corpus test, tests/integration/test_corpus.py, runs both
against the real binary)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli.exit_codes import EXIT_ERROR, EXIT_OK
from reconciler.cli.main import main
from state.engine import ContainerRecord, ContainerStatus
from state.resolve.project import ComposeProject, load_project

COMPOSE = """\
services:
  web:
    image: web:1
  worker:
    image: web:1
    profiles: [Jobs]
  gpu:
    image: gpu:1
    profiles: [gpu-amd, cpu]
"""
DECLARED = {"web": (), "worker": ("Jobs",), "gpu": ("gpu-amd", "cpu")}


class FakeCompose:
    """Answers as Compose would for this project's profiles; records nothing."""

    def __init__(self, project: ComposeProject | None, images: Sequence[str] = ("web:1",)) -> None:
        self.project = project
        self.images = images
        self.working_dir = str(project.compose_dir) if project else ""

    def service_profiles(self) -> dict[str, tuple[str, ...]]:
        return DECLARED

    def compose_model(self) -> dict[str, Any]:
        assert self.project is not None
        active = set(self.project.profiles)
        return {
            "services": {
                name: {"image": "gpu:1" if name == "gpu" else "web:1"}
                for name, profiles in DECLARED.items()
                if not profiles or active & set(profiles)
            }
        }

    def engine_version(self) -> str:
        return "20.10.24"

    def compose_version(self) -> str:
        return "2.40.3"

    def registry_answer(self, image: str) -> str:
        return "dial tcp: lookup registry-1.docker.io: no such host"

    def image_ids(self, references: Sequence[str]) -> dict[str, str]:
        return {r: f"sha256:{r}" for r in references if r in self.images}

    def containers(self, project: str) -> list[ContainerRecord]:
        return [
            ContainerRecord(
                id="c1",
                name=f"{project}-web-1",
                labels={"com.docker.compose.project.working_dir": "/elsewhere"},
                status=ContainerStatus.RUNNING,
                env={},
                image_id="sha256:web:1",
            )
        ]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    directory = tmp_path / "shop"
    directory.mkdir()
    (directory / "compose.yaml").write_text(COMPOSE)
    return directory


def run(argv: list[str], directory: Path, **kwargs: Any) -> int:
    def factory(project: ComposeProject | None) -> FakeCompose:
        return FakeCompose(project, **kwargs)

    return main([*argv, "--project-directory", str(directory)], engine=factory)  # type: ignore[arg-type]


def test_init_writes_prod_and_one_environment_per_profile(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["init"], project) == EXIT_OK
    out = capsys.readouterr().out
    assert f"Wrote {project / 'environments.toml'}" in out
    text = (project / "environments.toml").read_text()
    assert "# services: web\n[environments.prod]" in text
    assert "# services: gpu, web\n[environments.cpu]" in text
    assert '[environments.jobs]\nfiles = ["compose.yaml"]\nprofiles = ["Jobs"]' in text
    table = load_project(project, process_env={"APP_ENV": "gpu-amd"})
    assert table.table is not None and table.table.names == ("prod", "cpu", "gpu-amd", "jobs")
    assert table.profiles == ("gpu-amd",) and table.app_env.has_table


def test_a_second_init_refuses_and_force_rewrites(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["init"], project) == EXIT_OK
    (project / "environments.toml").write_text(
        "# mine\n" + (project / "environments.toml").read_text()
    )
    before = (project / "environments.toml").read_text()
    capsys.readouterr()
    assert run(["init"], project) == EXIT_ERROR
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--force" in err and "exists" in err
    assert (project / "environments.toml").read_text() == before
    assert run(["init", "--force", "--env", "live=", "--env", "batch=Jobs,cpu"], project) == 0
    text = (project / "environments.toml").read_text()
    assert text.startswith("# The environments") and 'default = "live"' in text
    assert 'profiles = ["Jobs", "cpu"]' in text and "gpu-amd" not in text


@pytest.mark.parametrize(
    ("env", "fragment"),
    [("Bad=cpu", "NAME=PROFILE"), ("dev=gpu", "did you mean 'cpu'?"), ("x", "NAME=PROFILE")],
)
def test_init_refuses_a_bad_env_in_one_line(
    project: Path, env: str, fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["init", "--env", env], project) == EXIT_ERROR
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1
    assert not (project / "environments.toml").exists()


def test_init_warns_when_app_env_already_names_something_else(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("APP_ENV", raising=False)
    (project / ".env").write_text("APP_ENV=production\n")
    assert run(["init"], project) == EXIT_OK
    assert "Note: APP_ENV='production' (from " in capsys.readouterr().out


def test_doctor_reports_each_check_and_fails_on_one(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["doctor", "--format", "json"], project) == EXIT_ERROR
    document = json.loads(capsys.readouterr().out)
    assert document["kind"] == "reconcile-doctor" and document["ok"] is False
    status = {check["name"]: check["status"] for check in document["checks"]}
    assert status == {
        "engine": "ok",
        "compose": "ok",
        "project": "ok",
        "table": "ok",
        "APP_ENV": "ok",
        "directories": "ok",
        "files": "ok",
        "checkouts": "fail",  # /elsewhere runs the same project name
        "images": "ok",
    }
    assert run(["doctor"], project, images=()) == EXIT_ERROR
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(status)
    images = next(line for line in lines if line.split()[1] == "images")
    assert images.startswith("fail")
    assert "cannot be pulled from docker.io: web:1 (dial tcp" in images


def test_doctor_says_when_nothing_is_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["doctor"], tmp_path) == EXIT_ERROR
    lines = capsys.readouterr().out.splitlines()
    project = next(line for line in lines if line.split()[1] == "project")
    assert project.startswith("fail") and "--project-directory" in project
    assert any(line.startswith("skip") and "needs `project`" in line for line in lines)
