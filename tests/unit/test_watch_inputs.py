"""The watch's input poll (reconciler/watch/inputs.py) on real files: which files it watches, and
an edit, a new file and a removed one each reported once, by name."""

from __future__ import annotations

from pathlib import Path

from reconciler.watch.inputs import InputChanged, InputFiles, input_paths
from state.model.desired import DesiredService, DesiredState
from state.resolve.project import load_project

TABLE = """default = "prod"
[environments.prod]
description = "p"
files = ["compose.yaml"]
[environments.dev]
description = "d"
files = ["compose.yaml", "compose.dev.yaml"]
"""


def make_project(root: Path) -> Path:
    (root / "compose").mkdir()
    (root / "compose/environments.toml").write_text(TABLE)
    (root / "compose/compose.yaml").write_text("services: {}\n")
    (root / "compose/compose.dev.yaml").write_text("services: {}\n")
    (root / "config").mkdir()
    (root / "config/app.ini").write_text("a=1\n")
    return root


def test_every_environment_s_files_and_the_content_files_are_watched(tmp_path: Path) -> None:
    project = load_project(make_project(tmp_path), process_env={})
    service = DesiredService(
        name="api",
        image="x",
        image_id=None,
        config_hash="h",
        app_env="prod",
        content={"config/app.ini": "0123"},
    )
    desired = DesiredState(
        project=project.name, app_env=project.app_env, profiles=(), services={"api": service}
    )
    shown = [str(p.relative_to(tmp_path)) for p in input_paths(project, desired)]
    assert shown == [
        ".env",
        "compose/environments.toml",
        "compose/compose.dev.yaml",
        "compose/compose.yaml",
        "config/app.ini",
    ]


def test_an_edit_a_new_file_and_a_removed_one_are_each_reported_once(tmp_path: Path) -> None:
    project = load_project(make_project(tmp_path), process_env={})
    inputs = InputFiles(tmp_path)
    inputs.follow(input_paths(project))
    assert inputs.changes() == []
    (tmp_path / ".env").write_text("APP_ENV=dev\n")
    (tmp_path / "compose/compose.dev.yaml").write_text("services: {a: {image: x}}\n")
    assert inputs.changes() == [
        InputChanged(".env", "was created"),
        InputChanged("compose/compose.dev.yaml", "changed"),
    ]
    assert inputs.changes() == []
    (tmp_path / ".env").unlink()
    assert inputs.changes() == [InputChanged(".env", "was removed")]
    same = (tmp_path / "compose/compose.yaml").read_text()
    (tmp_path / "compose/compose.yaml").write_text(same)  # touched, not changed
    assert inputs.changes() == []
