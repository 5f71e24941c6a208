"""Compose reads exactly the env file the reconciler reads.

`docker compose config` needs no running container; it runs through the reconciler's
own engine adapter, so the files, flags and variables are the ones every command uses.
"""

from __future__ import annotations

from pathlib import Path

from state.docker.adapter import DockerEngine
from state.resolve.project import load_project
from tests.integration.plain_stack import copy_project


def db_password_compose_sees(directory: Path) -> str:
    project = load_project(directory, project_name="spotit-envfiles", process_env={})
    model = DockerEngine(project).compose_model()
    password: str = model["services"]["db"]["environment"]["POSTGRES_PASSWORD"]
    return password


def test_compose_does_not_read_the_compose_directorys_env_file(tmp_path: Path) -> None:
    directory = copy_project(tmp_path, {})
    (directory / ".env").unlink()
    (directory / "compose" / ".env").write_text("POSTGRES_PASSWORD=from-compose-dir\n")
    assert db_password_compose_sees(directory) == "spot"  # the compose file's default

    (directory / ".env").write_text("POSTGRES_PASSWORD=from-the-root-env\n")
    assert db_password_compose_sees(directory) == "from-the-root-env"


def test_a_directory_named_env_is_no_env_file_for_either(tmp_path: Path) -> None:
    directory = copy_project(tmp_path, {})
    (directory / ".env").unlink()
    (directory / ".env").mkdir()
    (directory / "compose" / ".env").write_text("POSTGRES_PASSWORD=from-compose-dir\n")
    assert db_password_compose_sees(directory) == "spot"
