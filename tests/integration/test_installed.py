"""Installed as a tool: a plain (non-editable) `pip install` of the package into a fresh
venv, as pipx does, gives a `reconcile` that works on a project outside this repository
(n8n's AI starter kit from tests/corpus, copied elsewhere), without this repository's
Justfile: the README's "Use it on your own project" lines, in order. Without Docker on
PATH, or without the Compose plugin, it says in one line how to get them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.integration.test_corpus import CORPUS, engine_holds, environment

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "state", "reconciler")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`reconcile` of a fresh venv, installed from a copy of the sources (the checkout
    itself is not written to)."""
    root = tmp_path_factory.mktemp("installed")
    source = root / "spot-reconciler"
    source.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            ignored = shutil.ignore_patterns("__pycache__")
            shutil.copytree(REPO / name, source / name, ignore=ignored)
        else:
            shutil.copy2(REPO / name, source / name)
    venv = root / "venv"
    subprocess.run(["python3", "-m", "venv", str(venv)], check=True, timeout=120)
    done = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return venv / "bin" / "reconcile"


def run(
    reconcile: Path, cwd: Path, *argv: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in environment().items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [str(reconcile), *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=base | (env or {}),
        timeout=300,
    )
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    return done


def test_the_installed_tool_adopts_a_project_anywhere(installed: Path, tmp_path: Path) -> None:
    project = tmp_path / "n8n-ai-starter"
    shutil.copytree(CORPUS / "n8n-ai-starter", project)
    name = f"spotit-installed-{uuid.uuid4().hex[:6]}"
    assert not (project / "Justfile").exists() and not project.is_relative_to(REPO)

    doctor = run(installed, project, "doctor")
    lines = doctor.stdout.splitlines()
    assert doctor.returncode in (0, 1) and len(lines) == 9, doctor.stdout + doctor.stderr
    assert lines[0].startswith("ok    engine") and "none (optional)" in doctor.stdout

    first = run(installed, project, "--plan", "--project-name", name)
    assert first.returncode == 2 and "no environment table" in first.stderr, first.stderr
    init = run(installed, project, "init")
    assert init.returncode == 0 and (project / "environments.toml").is_file(), init.stderr
    plan = run(installed, project, "--plan", "--format", "json", "--project-name", name)
    assert plan.returncode == 2, plan.stderr
    assert {a["service"] for a in json.loads(plan.stdout)["actions"]} == {
        "n8n",
        "n8n-import",
        "postgres",
        "qdrant",
    }
    cpu = run(installed, project, "--plan", "--project-name", name, env={"APP_ENV": "cpu"})
    assert cpu.returncode == 2 and "ollama-cpu" in cpu.stdout, cpu.stdout + cpu.stderr
    assert engine_holds(name) == []


def test_without_docker_or_its_compose_plugin_it_says_how_to_get_them(
    installed: Path, tmp_path: Path
) -> None:
    project = tmp_path / "n8n-ai-starter"
    shutil.copytree(CORPUS / "n8n-ai-starter", project)
    tools = tmp_path / "bin"  # a PATH with the usual tools but no docker
    tools.mkdir()
    for program in ("env", "sh"):
        found = shutil.which(program)
        assert found is not None
        (tools / program).symlink_to(found)
    missing = run(installed, project, "--plan", env={"PATH": str(tools)})
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr.count("\n") == 2  # the no-table note, then the one-line error
    assert "docker is not on PATH: install Docker" in missing.stderr
    assert "https://docs.docker.com/engine/install/" in missing.stderr

    empty = tmp_path / "docker-config"
    empty.mkdir()
    no_plugin = run(installed, project, "--plan", env={"DOCKER_CONFIG": str(empty)})
    assert no_plugin.returncode == 1 and no_plugin.stdout == ""
    assert "Compose v2 is missing: install the Docker Compose plugin" in no_plugin.stderr
    assert no_plugin.stderr.splitlines()[-1].startswith("reconcile: ")
