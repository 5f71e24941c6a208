"""A real public project (n8n-hosting's withPostgresAndWorker, tests/corpus/n8n-hosting)
brought up end to end by `reconcile`, with local stand-in images (no registry here).

The stand-in is spot-busybox:local with a server that stays up until asked to stop and
the health probes the project calls (pg_isready, redis-cli), tagged with every image
name the project uses. A compose.override file, found by Compose's own rule, binds the
one published port to 127.0.0.1 (an ephemeral port). Then: `--plan` without a table
creates the six services; the apply converges (healthchecks, depends_on conditions);
a bind mount resolves in the project's own directory; `--plan` is empty; `init` writes
the table, to which an environment `next` (another n8n version) is added; APP_ENV=next
recreates exactly the four n8n services and keeps postgres and redis; `--plan` is empty
again; `down` removes every container and network and keeps the volumes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_corpus import CORPUS, engine_holds, environment

PROJECT_DIR = "docker-compose/withPostgresAndWorker"
STANDIN = "spotit-standin:local"
IMAGES = ("postgres:16", "redis:7-alpine")
N8N_IMAGES = ("docker.n8n.io/n8nio/n8n", "n8nio/runners")
VERSIONS = ("stable", "next")
DOCKERFILE = """\
FROM spot-busybox:local
COPY standin probe /usr/local/bin/
RUN ln -s probe /usr/local/bin/pg_isready && ln -s probe /usr/local/bin/redis-cli
ENTRYPOINT ["/usr/local/bin/standin"]
"""
STANDIN_SCRIPT = """\
#!/bin/sh
# A stand-in server: it ignores its arguments and stays up until asked to stop.
trap 'exit 0' TERM INT
while :; do sleep 1 & wait $!; done
"""
OVERRIDE = """\
# Test isolation: the one published port on loopback, an ephemeral one.
services:
  n8n:
    ports: !override ["127.0.0.1::5678"]
"""
NEXT = """
# Added by the test: the same stack on another n8n version.
[environments.next]
files = ["docker-compose.yml", "docker-compose.override.yml"]
variables = { N8N_VERSION = "next" }
"""


def docker(*args: str) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """The stand-in image under every name the project uses; the names go afterwards."""
    context = tmp_path_factory.mktemp("standin")
    (context / "Dockerfile").write_text(DOCKERFILE)
    (context / "standin").write_text(STANDIN_SCRIPT)
    (context / "probe").write_text("#!/bin/sh\nexit 0\n")
    for script in ("standin", "probe"):
        (context / script).chmod(0o755)
    docker("build", "-q", "-t", STANDIN, str(context))
    names = [*IMAGES, *(f"{image}:{v}" for image in N8N_IMAGES for v in VERSIONS)]
    for name in names:
        docker("tag", STANDIN, name)
    try:
        yield names
    finally:
        subprocess.run(["docker", "rmi", *names, STANDIN], capture_output=True, timeout=120)


def test_a_real_project_runs_switches_and_goes(standin: list[str], tmp_path: Path) -> None:
    shutil.copytree(CORPUS / "n8n-hosting", tmp_path / "n8n-hosting")
    cwd = tmp_path / "n8n-hosting" / PROJECT_DIR
    (cwd / "docker-compose.override.yml").write_text(OVERRIDE)
    name = f"spotit-adopt-{uuid.uuid4().hex[:6]}"
    env = environment() | {"COMPOSE_PROJECT_NAME": name}

    def reconcile(*argv: str, **extra: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "reconciler", *argv],
            capture_output=True,
            text=True,
            cwd=cwd,
            env=env | extra,
            timeout=600,
        )
        assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
        return done

    def containers() -> dict[str, str]:
        """service -> container id, of the running containers."""
        out = docker(
            "ps", "--filter", f"label=com.docker.compose.project={name}",
            "--format", '{{.Label "com.docker.compose.service"}} {{.ID}}',
        )  # fmt: skip
        return dict(line.split() for line in out.splitlines())

    try:
        plan = reconcile("--plan", "--format", "json")
        assert plan.returncode == 2, plan.stderr
        assert plan.stderr.startswith("reconcile: no environment table")
        creates = {a["service"] for a in json.loads(plan.stdout)["actions"]}
        six = {"postgres", "redis", "n8n", "n8n-runner", "n8n-worker", "n8n-worker-runner"}
        assert creates == six

        up = reconcile("--wait-timeout", "120")
        assert up.returncode == 0, up.stdout + up.stderr
        first = containers()
        assert set(first) == six
        mounts = json.loads(docker("inspect", first["postgres"]))[0]["Mounts"]
        sources = {m["Source"] for m in mounts if m["Type"] == "bind"}
        assert str(cwd / "init-data.sh") in sources  # relative to the project's directory
        ports = docker("port", first["n8n"])
        assert ports.startswith("5678/tcp -> 127.0.0.1:"), ports
        still = reconcile("--plan")
        assert still.returncode == 0 and "No changes." in still.stdout, still.stdout

        init = reconcile("init")
        assert init.returncode == 0, init.stderr
        table = cwd / "environments.toml"
        assert 'files = ["docker-compose.yml", "docker-compose.override.yml"]' in table.read_text()
        assert reconcile("--plan").returncode == 0  # the table's prod is what ran
        table.write_text(table.read_text() + NEXT)

        switch = reconcile("--plan", "--format", "json", APP_ENV="next")
        assert switch.returncode == 2, switch.stderr
        actions = json.loads(switch.stdout)["actions"]
        n8n = six - {"postgres", "redis"}
        assert {(a["kind"], a["service"]) for a in actions} == {("recreate", s) for s in n8n}
        applied = reconcile("--wait-timeout", "120", APP_ENV="next")
        assert applied.returncode == 0, applied.stdout + applied.stderr
        second = containers()
        assert {s for s in six if second[s] == first[s]} == {"postgres", "redis"}
        assert reconcile("--plan", APP_ENV="next").returncode == 0

        down = reconcile("down", APP_ENV="next")
        assert down.returncode == 0, down.stdout + down.stderr
        assert containers() == {}
        left = docker("volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={name}")
        assert len(left.split()) == 3  # db_storage, n8n_storage, redis_storage: data kept
    finally:
        subprocess.run(
            ["docker", "compose", "-p", name, "down", "--volumes", "--remove-orphans"],
            capture_output=True,
            cwd=cwd,
            timeout=300,
        )
    assert engine_holds(name) == []
