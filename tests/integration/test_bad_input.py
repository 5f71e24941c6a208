"""The bad-input matrix: every row is one mistake a user makes, on a running project.

For each row the real `reconcile` entry point must exit 1 (64 for a usage error),
print exactly one line on stderr that names the problem and the fix, show no
traceback, and change nothing: not a container (id, state, start time), not a
volume, not a network, not a file of the project directory.

The project is a small busybox stack (two services and a named volume) brought up
once for the module; each row works on its own copy of the project directory, aimed
at the same Compose project, so the row's mistake cannot leak into the next row.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
PROJECT_LABEL = "com.docker.compose.project"

ENVIRONMENTS_TOML = """\
default = "prod"
build_images = "just images"

[environments.prod]
description = "Production"
files = ["compose.yaml"]

[environments.dev]
description = "Development"
files = ["compose.yaml"]
profiles = ["dev"]

[environments.test]
description = "Testing"
files = ["compose.yaml"]
profiles = ["dev", "test"]
"""

COMPOSE_YAML = """\
x-service: &service
  image: spot-busybox:local
  pull_policy: never
  init: true
  command: ["sleep", "86400"]
  environment:
    APP_ENV: ${APP_ENV:-prod}
    POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-unset}

services:
  store:
    <<: *service
    volumes:
      - data:/data
  worker:
    <<: *service
    depends_on: [store]
  tool:
    <<: *service
    profiles: [dev]

volumes:
  data:
"""


# A line that names the fix says what to do: one of these verbs appears in it.
FIX_VERBS = (
    "use ",
    "run ",
    "fix",
    "pass ",
    "set ",
    "remove",
    "add ",
    "start",
    "install",
    "check",
    "choose",
    "rename",
    "create",
    "see ",
    "build",
    "unset",
    "edit",
)


@dataclass
class Row:
    """One mistake: how to make it, how to run the command, what the one line names."""

    id: str
    argv: list[str]
    mentions: tuple[str, ...]
    exit_code: int = 1
    env: dict[str, str] = field(default_factory=dict)
    unset: tuple[str, ...] = ()
    setup: Callable[[Path], None] = lambda directory: None
    # The project's name is passed on the command line unless the row is about it.
    with_project_name: bool = True


def write(relative: str, text: str | bytes) -> Callable[[Path], None]:
    def setup(directory: Path) -> None:
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)

    return setup


def remove(relative: str) -> Callable[[Path], None]:
    return lambda directory: (directory / relative).unlink()


def edit_compose(old: str, new: str) -> Callable[[Path], None]:
    def setup(directory: Path) -> None:
        path = directory / "compose" / "compose.yaml"
        text = path.read_text()
        assert old in text, old
        path.write_text(text.replace(old, new, 1))

    return setup


def edit_table(old: str, new: str) -> Callable[[Path], None]:
    def setup(directory: Path) -> None:
        path = directory / "compose" / "environments.toml"
        text = path.read_text()
        assert old in text, old
        path.write_text(text.replace(old, new, 1))

    return setup


def both(*setups: Callable[[Path], None]) -> Callable[[Path], None]:
    def setup(directory: Path) -> None:
        for step in setups:
            step(directory)

    return setup


def path_without_docker(directory: Path) -> str:
    """A PATH holding only `env` and the Python interpreter, no `docker`."""
    bin_dir = directory.parent / f"nodocker-{directory.name}"
    bin_dir.mkdir(exist_ok=True)
    for tool in ("env",):
        found = shutil.which(tool)
        if found and not (bin_dir / tool).exists():
            (bin_dir / tool).symlink_to(found)
    return str(bin_dir)


ROWS: list[Row] = [
    # --- APP_ENV and the env files -------------------------------------------------
    Row("app-env-unknown", [], ("APP_ENV='staging'", "use one of"), env={"APP_ENV": "staging"}),
    Row(
        "app-env-unknown-in-env-file",
        [],
        (".env:2", "APP_ENV='staging'", "use one of"),
        setup=write(".env", "# ours\nAPP_ENV=staging\n"),
    ),
    Row(
        "app-env-case",
        ["--plan"],
        ("APP_ENV='Prod'", "did you mean 'prod'"),
        env={"APP_ENV": "Prod"},
    ),
    Row("app-env-trailing-space", [], ("APP_ENV='dev '", "use one of"), env={"APP_ENV": "dev "}),
    Row("app-env-lookalike", [], ("\\u0435", "did you mean 'dev'"), env={"APP_ENV": "d\u0435v"}),
    Row("app-env-unknown-on-restart", ["restart"], ("APP_ENV='qa'",), env={"APP_ENV": "qa"}),
    Row(
        "app-env-unknown-on-plan-json",
        ["--plan", "--format", "json"],
        ("APP_ENV='qa'",),
        env={"APP_ENV": "qa"},
    ),
    Row("env-file-missing", ["--env-file", "typo.env"], ("typo.env", "env file")),
    Row(
        "env-file-is-a-directory",
        ["--env-file", "compose"],
        ("--env-file", "is a directory"),
        exit_code=64,
    ),
    Row(
        "secret-in-broken-interpolation",
        [],
        (".env",),
        setup=write(".env", 'POSTGRES_PASSWORD="Sup3r${secret"\n'),
    ),
    # --- the environment table -----------------------------------------------------
    Row("table-missing", [], ("environments.toml",), setup=remove("compose/environments.toml")),
    Row(
        "table-not-toml",
        [],
        ("environments.toml",),
        setup=write("compose/environments.toml", "default = prod\n[[["),
    ),
    Row(
        "table-default-not-listed",
        [],
        ("environments.toml", "default"),
        setup=edit_table('default = "prod"', 'default = "staging"'),
    ),
    Row(
        "table-unknown-key",
        [],
        ("environments.toml", "colour"),
        setup=edit_table('description = "Production"', 'description = "Production"\ncolour = 1'),
    ),
    Row(
        "table-sets-app-env",
        [],
        ("environments.toml", "APP_ENV"),
        setup=edit_table(
            'description = "Production"',
            'description = "Production"\nvariables = { APP_ENV = "x" }',
        ),
    ),
    Row(
        "table-names-missing-file",
        [],
        ("environments.toml", "compose.prod.yaml"),
        setup=edit_table(
            'files = ["compose.yaml"]', 'files = ["compose.yaml", "compose.prod.yaml"]'
        ),
    ),
    Row(
        "table-no-files",
        [],
        ("environments.toml", "files"),
        setup=edit_table('files = ["compose.yaml"]', "files = []"),
    ),
    Row(
        "table-bad-variable-name",
        [],
        ("environments.toml", "variables"),
        setup=edit_table(
            'description = "Production"',
            'description = "Production"\nvariables = { "log level" = "x" }',
        ),
    ),
    # --- the compose files ---------------------------------------------------------
    Row("compose-file-missing", [], ("compose.yaml",), setup=remove("compose/compose.yaml")),
    Row(
        "compose-invalid-yaml",
        [],
        ("compose",),
        setup=write("compose/compose.yaml", "services:\n  store: [unclosed\n"),
    ),
    Row(
        "compose-unknown-key",
        [],
        ("compose", "colour"),
        setup=edit_compose("  worker:\n", "  worker:\n    colour: blue\n"),
    ),
    Row(
        "compose-depends-on-unknown",
        [],
        ("compose", "ghost"),
        setup=edit_compose("depends_on: [store]", "depends_on: [store, ghost]"),
    ),
    Row(
        "compose-depends-on-cycle",
        [],
        ("compose", "cycle"),
        setup=edit_compose(
            "    volumes:\n      - data:/data\n",
            "    volumes:\n      - data:/data\n    depends_on: [worker]\n",
        ),
    ),
    Row(
        "compose-required-variable",
        [],
        ("compose", "REQUIRED_THING"),
        setup=edit_compose(
            'command: ["sleep", "86400"]', 'command: ["sleep", "${REQUIRED_THING:?set it in .env}"]'
        ),
    ),
    Row(
        "compose-bad-port",
        [],
        ("compose", "port"),
        setup=edit_compose("  worker:\n", '  worker:\n    ports: ["notaport:80"]\n'),
    ),
    Row(
        "compose-missing-env-file",
        [],
        ("compose", "missing.env"),
        setup=edit_compose("  worker:\n", "  worker:\n    env_file: missing.env\n"),
    ),
    Row(
        "image-not-built",
        [],
        ("spot-nonexistent:local", "just images"),
        setup=edit_compose(
            "\nvolumes:\n",
            "  ghostly:\n    <<: *service\n    image: spot-nonexistent:local\n\nvolumes:\n",
        ),
    ),
    # --- names, directories, the engine ------------------------------------------------
    Row(
        "project-name-invalid",
        ["--project-name", "My Stack!"],
        ("project name", "My Stack!"),
        with_project_name=False,
    ),
    Row(
        "project-name-invalid-from-environment",
        [],
        ("COMPOSE_PROJECT_NAME", "-leading-dash"),
        env={"COMPOSE_PROJECT_NAME": "-leading-dash"},
        with_project_name=False,
    ),
    Row(
        "project-directory-missing",
        ["--project-directory", "/nonexistent/spot"],
        ("/nonexistent/spot",),
    ),
    Row("docker-not-on-path", [], ("docker",), env={"PATH": "<nodocker>"}),
    Row("no-tools-on-path", [], ("env", "PATH"), env={"PATH": "<notools>"}),
    Row(
        "no-tools-on-path-cache-off",
        [],
        ("env", "PATH"),
        env={"PATH": "<notools>", "RECONCILE_NO_CACHE": "1"},
    ),
    # Reads go over the Engine API (no program needed); the stop's write needs docker,
    # run as every call of an engine with a project is (`env VAR=value docker`: stop
    # reads the files' depends_on), so env is the first program missing.
    # --take-over: the shared project was made from the template's checkout.
    Row(
        "no-tools-on-path-stop",
        ["stop", "--take-over"],
        ("env", "PATH"),
        env={"PATH": "<notools>"},
    ),
    Row("compose-plugin-missing", [], ("compose", "just engine"), env={"DOCKER_CONFIG": "<empty>"}),
    Row(
        "engine-unreachable",
        [],
        ("unix:///nonexistent/docker.sock", "just engine"),
        env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"},
    ),
    Row(
        "lock-dir-not-a-directory", [], ("lock",), env={"RECONCILE_LOCK_DIR": "/etc/hostname/locks"}
    ),
    # --- commands ------------------------------------------------------------------
    Row("logs-unknown-service", ["logs", "no-such-service"], ("no-such-service",)),
    # The rows' checkouts are copies of the one that made the containers: taken over.
    Row("down-volumes-without-yes", ["down", "--volumes", "--take-over"], ("--yes",)),
    # --- usage (64) ----------------------------------------------------------------
    Row("usage-unknown-option", ["--no-such-option"], ("--no-such-option",), exit_code=64),
    Row("usage-unknown-command", ["launch"], ("launch",), exit_code=64),
    Row("usage-bad-format", ["status", "--format", "xml"], ("xml",), exit_code=64),
    Row("usage-negative-wait", ["--wait-timeout", "-1"], ("-1",), exit_code=64),
    Row("usage-bad-lock-timeout", ["--lock-timeout", "soon"], ("soon",), exit_code=64),
]


def run(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def base_environment() -> dict[str, str]:
    drop = ("APP_ENV", "LOG_LEVEL", "POSTGRES_PASSWORD", "DOCKER_HOST", "DOCKER_CONTEXT")
    return {
        key: value
        for key, value in os.environ.items()
        if key not in drop and not key.startswith("COMPOSE_")
    } | {"PYTHONPATH": str(REPO)}


def engine_state(project: str) -> dict[str, Any]:
    """Every container (id, state, start time, restarts), volume and network of the project."""
    label = f"label={PROJECT_LABEL}={project}"

    def names(*args: str) -> list[str]:
        out = subprocess.run(["docker", *args], capture_output=True, text=True, check=True)
        return sorted(out.stdout.split())

    ids = names("ps", "-aq", "--no-trunc", "--filter", label)
    containers = []
    if ids:
        inspected = json.loads(
            subprocess.run(
                ["docker", "inspect", *ids], capture_output=True, text=True, check=True
            ).stdout
        )
        containers = sorted(
            (c["Id"], c["State"]["Status"], c["State"]["StartedAt"], c["RestartCount"])
            for c in inspected
        )
    return {
        "containers": containers,
        "volumes": names("volume", "ls", "-q", "--filter", label),
        "networks": names("network", "ls", "-q", "--filter", label),
    }


def tree_digest(directory: Path) -> dict[str, str]:
    return {
        str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def running_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A two-service busybox project up in prod, with a named volume."""
    template = tmp_path_factory.mktemp("badinput") / "template"
    (template / "compose").mkdir(parents=True)
    (template / "compose" / "environments.toml").write_text(ENVIRONMENTS_TOML)
    (template / "compose" / "compose.yaml").write_text(COMPOSE_YAML)
    name = f"spotit-badinput-{uuid.uuid4().hex[:6]}"
    env = base_environment()
    up = run(["--project-name", name, "--project-directory", str(template)], env, cwd=template)
    assert up.returncode == 0, up.stdout + up.stderr
    try:
        yield name, template
    finally:
        label = f"label={PROJECT_LABEL}={name}"
        for kind in ("container", "network", "volume"):
            listed = subprocess.run(
                ["docker", kind, "ls", "-aq" if kind == "container" else "-q", "--filter", label],
                capture_output=True,
                text=True,
            ).stdout.split()
            if listed:
                force = ["-f"] if kind in ("container", "volume") else []
                subprocess.run(["docker", kind, "rm", *force, *listed], capture_output=True)


def test_the_matrix_has_at_least_35_rows() -> None:
    assert len(ROWS) >= 35
    assert len({row.id for row in ROWS}) == len(ROWS)


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_bad_input_is_one_line_exit_code_and_nothing_touched(
    row: Row, running_project: tuple[str, Path], tmp_path: Path
) -> None:
    name, template = running_project
    directory = tmp_path / "project"
    shutil.copytree(template, directory)
    row.setup(directory)

    env = base_environment()
    for key, value in row.env.items():
        if value == "<nodocker>":
            value = path_without_docker(directory)
        elif value == "<notools>":  # neither docker nor env: as `PATH=/usr/bin/none`
            value = str(tmp_path / "no-tools")
        elif value == "<empty>":
            empty = tmp_path / "empty-docker-config"
            empty.mkdir()
            value = str(empty)
        env[key] = value
    argv = list(row.argv)
    if "--project-directory" not in argv:
        argv += ["--project-directory", str(directory)]
    if row.with_project_name:
        argv += ["--project-name", name]
    python_dir = str(Path(sys.executable).parent)
    if row.env.get("PATH") in ("<nodocker>", "<notools>"):
        argv_runner = env["PATH"]
        env["PATH"] = argv_runner  # the interpreter is called by absolute path
        assert shutil.which("docker", path=env["PATH"]) is None
    else:
        env["PATH"] = python_dir + os.pathsep + env.get("PATH", "")

    before_engine = engine_state(name)
    before_files = tree_digest(directory)
    result = run(argv, env, cwd=directory)
    after_engine = engine_state(name)
    after_files = tree_digest(directory)

    lines = [line for line in result.stderr.splitlines() if line.strip()]
    shown = f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.returncode == row.exit_code, shown
    assert "Traceback" not in result.stderr + result.stdout, shown
    assert len(lines) == 1, shown
    for word in row.mentions:
        assert word.lower() in lines[0].lower(), f"{word!r} not named\n{shown}"
    assert any(verb in lines[0].lower() for verb in FIX_VERBS), f"no fix named\n{shown}"
    assert "Sup3r" not in result.stdout + result.stderr, shown
    assert after_engine == before_engine, shown
    assert after_files == before_files, shown
