"""The Engine API reads and the CLI reads see the same engine (state/docker/api.py).

A synthetic project brought up by Compose itself, one of its containers stopped and a
one-off beside them; then every read the adapter makes over the socket (containers,
has_project, image ids, the engine's identity, which ids are present) must equal what
the docker CLI path reads for the same project, on the real engine. And where the
socket is not there, the API path fails as the CLI path does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from state.docker.adapter import DockerEngine
from state.engine import SERVICE_LABEL
from state.errors import TransientError
from state.resolve.project import load_project
from tests.bench.synthetic import IMAGE, SyntheticProject
from tests.bench.tools import Compose, Ours


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SyntheticProject]:
    made = SyntheticProject.create(tmp_path_factory.mktemp("api"), 12)
    try:
        Compose(made).run("up", "--detach", app_env="prod")
        Compose(made).run("stop", "s011", app_env="prod")
        Compose(made).run("run", "--detach", "--no-deps", "s004", "sleep", "60", app_env="prod")
        yield made
    finally:
        made.remove_everything()


def engine_of(project: SyntheticProject, monkeypatch: pytest.MonkeyPatch) -> DockerEngine:
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    monkeypatch.setenv("APP_ENV", "prod")
    return DockerEngine(load_project(project.directory, project_name=project.name))


def test_both_paths_read_the_same_networks_and_volumes(
    project: SyntheticProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    volume = f"{project.name}_data"  # labelled as Compose labels a named volume
    label = f"com.docker.compose.project={project.name}"
    subprocess.run(["docker", "volume", "create", "--label", label, volume], check=True)
    engine = engine_of(project, monkeypatch)
    assert engine.api is not None, "the local socket was not chosen for the reads"
    assert engine.volumes(project.name) == [volume]
    networks = engine.networks(project.name)
    assert networks == [f"{project.name}_default"]  # Compose's own, labelled
    assert networks == engine.labelled_by_cli("network", project.name)
    assert engine.volumes(project.name) == engine.labelled_by_cli("volume", project.name)
    assert engine.api.requests == 3  # one request each, no docker process


def test_both_paths_read_the_same_containers(
    project: SyntheticProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = engine_of(project, monkeypatch)
    assert engine.api is not None, "the local socket was not chosen for the reads"
    by_api = sorted(engine.containers(project.name), key=lambda r: r.id)
    by_cli = sorted(engine.containers_by_cli(project.name), key=lambda r: r.id)
    assert by_api == by_cli
    services = {r.labels[SERVICE_LABEL] for r in by_api}
    assert services == set(project.services("prod"))  # the dev one is not up
    assert {r.status for r in by_api} >= {"running", "exited"}  # s011 stopped
    assert len(by_api) == len(services) + 1  # the one-off is read (observe drops it)
    assert engine.api.requests == 1 + len(by_api)  # one list, one inspect each


def test_both_paths_agree_on_project_images_identity_and_presence(
    project: SyntheticProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = engine_of(project, monkeypatch)
    assert engine.api is not None
    references = [IMAGE, "spot-app:local", "no-such-image:anywhere"]
    by_api = engine.image_ids(references)
    assert IMAGE in by_api and "no-such-image:anywhere" not in by_api
    ids = [r.id for r in engine.containers(project.name)][:3]
    gone = "0" * 64
    api_answers = (
        engine.has_project(project.name),
        engine.has_project(f"{project.name}-none"),
        engine.identity(),
        engine._present([*ids, gone]),
    )
    engine._api = None  # the CLI path from here on, same engine object
    assert engine.api is None
    assert engine.image_ids(references) == by_api
    cli_answers = (
        engine.has_project(project.name),
        engine.has_project(f"{project.name}-none"),
        engine.identity(),
        engine._present([*ids, gone]),
    )
    assert api_answers == cli_answers
    assert api_answers[:2] == (True, False) and api_answers[3] == ids


def test_an_absent_socket_fails_as_the_cli_path_does(
    project: SyntheticProject, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    engine = engine_of(project, monkeypatch)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-daemon.sock")
    engine._api = False  # choose again, for this DOCKER_HOST
    assert engine.api is not None
    with pytest.raises(TransientError) as by_api:
        engine.containers(project.name)
    engine._api = None
    with pytest.raises(TransientError) as by_cli:
        engine.containers(project.name)
    for error in (by_api.value, by_cli.value):
        assert str(error).startswith("docker container ls failed: ")
        assert "Cannot connect to the Docker daemon" in str(error)
        assert "just engine" in str(error)  # the fix, appended on both paths


def test_a_no_op_plan_after_a_cd_starts_no_docker_process(
    project: SyntheticProject, tmp_path: Path
) -> None:
    """The whole read path of a project, as a user runs it twice in a row from
    another directory and a subshell: the config cache answers (its key ignores OLDPWD,
    SHLVL and the like) and the Engine API reads the rest, so no `docker` starts."""
    ours = Ours(project)
    real = shutil.which("docker")
    assert real is not None
    log = tmp_path / "calls.log"
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "docker").write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{real}" "$@"\n')
    (shim / "docker").chmod(0o755)
    env = {**os.environ, "APP_ENV": "prod", "PATH": f"{shim}:{os.environ['PATH']}"}
    env.pop("DOCKER_HOST", None)
    first = subprocess.run(ours.command("--plan"), env=env, capture_output=True, text=True)
    assert first.returncode == 2, first.stdout + first.stderr  # s011 stopped: a start
    assert log.exists(), "the first run (a cache miss) asks Compose"
    log.unlink()
    moved = {**env, "OLDPWD": str(tmp_path), "SHLVL": "7", "FOO": "unrelated"}
    done = subprocess.run(ours.command("--plan"), env=moved, capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (2, first.stdout)  # the same plan
    assert not log.exists(), f"docker started: {log.read_text() if log.exists() else ''}"
