"""Real public Compose projects (tests/corpus/, each with its SOURCE.md), with the real
Compose binary as the oracle and nothing started: for each project, from the directory
its users type `docker compose` in,
- the project's name is Compose's (`config --format json`);
- `reconcile --plan --format json` with no table creates exactly `docker compose
  config --services` (COMPOSE_PROFILES from the project's .env included);
- `reconcile init` exits 0 and writes the table; then the default environment creates
  exactly those services again, and each profile's environment exactly `docker compose
  --profile P config --services`;
- `reconcile doctor` runs (exit 0 or 1, one line per check);
- no traceback anywhere, and nothing exists on the engine under the project's name.
The plans use a project name of their own (`spotit-corpus-...`), so no stack of the
machine is read or touched. CORPUS_REPORT=PATH appends one JSON line per project with
what each side said (the table of the closing note).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from state.resolve.inputs import gather
from state.resolve.project import project_from

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "corpus"
PROJECT_LABEL = "com.docker.compose.project"


@dataclass(frozen=True)
class Case:
    """A corpus project as its users run it: the directory and the -f files (a variant)."""

    project: str
    run: str = "."
    files: tuple[str, ...] = ()
    variant: str = ""

    @property
    def id(self) -> str:
        return f"{self.project}.{self.variant}" if self.variant else self.project

    @property
    def args(self) -> list[str]:
        return [arg for name in self.files for arg in ("-f", name)]


# Their compose files give secrets the values of service names (sentry:
# `AWS_SECRET_ACCESS_KEY: sentry`; langfuse: `CLICKHOUSE_PASSWORD: clickhouse`,
# `POSTGRES_PASSWORD: postgres`): those values are names, never masked in the plan
# (state/secrets.py `spare`), and a secret stays masked only where it stands alone.
CASES = [
    Case("sentry"),
    Case("netbox"),
    Case("plausible"),
    Case(
        "plausible",
        files=("docker-compose.yml", "reverse-proxy/docker-compose.caddy-gen.yml"),
        variant="caddy-gen",
    ),
    Case("n8n-ai-starter"),
    Case("mattermost"),
    Case(
        "mattermost",
        files=("docker-compose.yml", "docker-compose.without-nginx.yml"),
        variant="without-nginx",
    ),
    Case("docker-elk"),
    Case(
        "docker-elk",
        files=(
            "docker-compose.yml",
            "extensions/fleet/fleet-compose.yml",
            "extensions/fleet/agent-apmserver-compose.yml",
        ),
        variant="fleet",
    ),
    Case("frappe"),
    Case("frappe", files=("pwd.yml",), variant="pwd"),
    Case("langfuse"),
    Case("paperless"),
    Case("immich", run="docker"),
    Case("awesome-nginx-golang-mysql"),
    Case("n8n-hosting", run="docker-compose/withPostgresAndWorker"),
]


def environment() -> dict[str, str]:
    """The user's shell: no APP_ENV (the tests' own) and no COMPOSE_* of ours."""
    return {
        key: value
        for key, value in os.environ.items()
        if key != "APP_ENV" and not key.startswith(("COMPOSE_", "DOCKER_HOST", "DOCKER_CONTEXT"))
    } | {"PYTHONPATH": str(REPO)}


def run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, capture_output=True, text=True, cwd=cwd, env=env, timeout=300, check=False
    )


def reconcile(cwd: Path, env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    done = run([sys.executable, "-m", "reconciler", *argv], cwd, env)
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    return done


def compose(cwd: Path, env: dict[str, str], *argv: str) -> str:
    done = run(["docker", "compose", *argv], cwd, env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def created(done: subprocess.CompletedProcess[str]) -> set[str]:
    """The services a `--plan --format json` creates (it must plan nothing else)."""
    assert done.returncode == 2, done.stdout + done.stderr
    actions = json.loads(done.stdout)["actions"]
    assert {a["kind"] for a in actions} == {"create"}, actions
    return {a["service"] for a in actions}


def engine_holds(name: str) -> list[str]:
    label = f"label={PROJECT_LABEL}={name}"
    found = []
    for kind in (["ps", "-a"], ["network", "ls"], ["volume", "ls"]):
        out = subprocess.run(
            ["docker", *kind, "-q", "--filter", label], capture_output=True, text=True, check=True
        ).stdout
        found += out.split()
    return found


@pytest.mark.parametrize("case", CASES, ids=lambda case: getattr(case, "id", None))
def test_a_real_project_is_planned_as_compose_runs_it(case: Case, tmp_path: Path) -> None:
    root = tmp_path / case.project  # the same directory name: names made from it match
    shutil.copytree(CORPUS / case.project, root)
    cwd, env = root / case.run, environment()
    unique = f"spotit-corpus-{uuid.uuid4().hex[:6]}"
    named = ["--project-name", unique]

    # Compose's answers, as its users would get them.
    default = set(compose(cwd, env, *case.args, "config", "--services").split())
    raw = json.loads(compose(cwd, env, *case.args, "config", "--no-interpolate", "--format=json"))
    declared = sorted({p for s in raw["services"].values() for p in s.get("profiles") or ()})
    per_profile = {
        p: set(compose(cwd, env, *case.args, "--profile", p, "config", "--services").split())
        for p in declared
    }
    compose_name = json.loads(compose(cwd, env, *case.args, "config", "--format", "json"))["name"]

    # Ours, with no table: the name, then exactly what `docker compose up` runs.
    inputs = gather(cwd, files=[Path(f) for f in case.files], environ=env)
    ours_name = project_from(inputs, None, None).name
    assert ours_name == compose_name
    before = reconcile(cwd, env, "--plan", "--format", "json", *named, *case.args)
    assert "no environment table" in before.stderr.splitlines()[0]
    planned = {"(no table)": created(before)}

    # init, then every environment it wrote.
    init = reconcile(cwd, env, "init", *case.args)
    assert init.returncode == 0, init.stderr
    table_path = Path(init.stdout.split()[1].rstrip(":"))
    assert inputs.found is not None and table_path.parent == inputs.found.compose_directory
    table = tomllib.loads(table_path.read_text())
    expected = {"(no table)": default, table["default"]: default}
    for name, entry in table["environments"].items():
        if name != table["default"]:
            expected[name] = per_profile[entry["profiles"][0]]
    assert set(expected) == {"(no table)", *table["environments"]}
    for name in table["environments"]:
        done = reconcile(cwd, env | {"APP_ENV": name}, "--plan", "--format", "json", *named)
        planned[name] = created(done)
    again = reconcile(cwd, env, "init", *case.args)
    assert again.returncode == 1 and "--force" in again.stderr

    doctor = reconcile(cwd, env, "doctor")
    lines = doctor.stdout.splitlines()
    assert doctor.returncode in (0, 1) and len(lines) == 9, doctor.stdout + doctor.stderr
    assert all(line.split()[0] in ("ok", "fail", "skip") for line in lines)

    assert engine_holds(unique) == []
    report(case, compose_name, per_profile, planned, expected, init.stdout, doctor.stdout)
    assert planned == expected


def report(case: Case, name: str, per_profile: dict[str, set[str]],
           planned: dict[str, set[str]], expected: dict[str, set[str]],
           init: str, doctor: str) -> None:  # fmt: skip
    path = os.environ.get("CORPUS_REPORT")
    if not path:
        return
    entry: dict[str, Any] = {
        "case": case.id,
        "run": case.run,
        "files": list(case.files),
        "name": name,
        "compose": {
            "default": sorted(expected["(no table)"]),
            **{f"--profile {p}": sorted(s) for p, s in per_profile.items()},
        },
        "ours": {env: sorted(s) for env, s in planned.items()},
        "same": planned == expected,
        "init": init,
        "doctor": doctor,
    }
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(entry) + "\n")
