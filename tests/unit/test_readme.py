"""Every command of the README's shell blocks is verified, and this table says how.

The fenced ```sh, ```bash and ```console blocks of README.md are parsed into command
lines. Each must be in COMMANDS, which names how it is verified:
  Ran(test)      a test of tests/unit/test_readme.py or tests/integration/test_readme.py
                 runs the line as written (the stack's commands against a copy of the
                 project under a `spotit-...` name, never the default project);
  InCi()         .ci/run runs the line verbatim (the Quickstart: it builds the test env);
  DryRun()       `just --dry-run` resolves the recipe (running it here would recurse into
                 the test suite or need root and minutes): the recipe exists as written;
  Covered(test)  an existing named test, `path::name`, exercises it.
A README command missing from the table fails here, so a new one cannot go untested;
so does a table entry the README no longer has, or a named test that does not exist.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = "tests/integration/test_readme.py::test_readme_workflows_run_on_a_copy_of_the_stack"
HERE = "tests/unit/test_readme.py::test_readme_lines_that_need_no_stack_run"
SAVED = "tests/integration/test_saved_plans.py::test_save_apply_then_the_same_file_is_stale"
WATCH = (
    "tests/integration/test_watch.py::"
    "test_watch_repairs_a_stop_and_an_rm_waits_for_the_lock_and_applies_an_env_edit"
)
WATCH_PLAN = (
    "tests/integration/test_watch.py::test_watch_plan_only_shows_the_plan_and_changes_nothing"
)
ROLLBACK = (
    "tests/integration/test_rollback.py::"
    "test_a_recreated_service_that_never_becomes_ready_is_rolled_back"
)
SWARM = (
    "tests/integration/test_swarm_infra.py::"
    "test_three_replicas_land_one_per_node_and_reach_each_other"
)

HISTORY = (
    "tests/integration/test_history.py::"
    "test_a_switch_and_back_leaves_three_receipts_with_measured_downtime"
)
SWARM_BACKEND = "tests/integration/test_swarm_backend.py::test_a_second_apply_changes_nothing"
INSTALLED = "tests/integration/test_installed.py::test_the_installed_tool_adopts_a_project_anywhere"
INIT_FORCE = "tests/unit/test_adopt.py::test_a_second_init_refuses_and_force_rewrites"
SWITCH = (
    "tests/integration/test_swarm_backend_switch.py::"
    "test_from_the_swarm_to_compose_status_finds_it_apply_refuses_down_removes_it"
)


@dataclass(frozen=True)
class Ran:
    test: str


@dataclass(frozen=True)
class InCi:
    pass


@dataclass(frozen=True)
class DryRun:
    pass


@dataclass(frozen=True)
class Covered:
    test: str


Check = Ran | InCi | DryRun | Covered

COMMANDS: dict[str, Check] = {
    # Quickstart
    "python3 -m venv .venv && .venv/bin/pip install -e '.[dev]' && .venv/bin/just up": InCi(),
    ".venv/bin/just test": InCi(),
    # Everyday workflows and troubleshooting: run in this order on a copy of the stack
    "APP_ENV=dev just plan": Ran(WORKFLOW),
    "APP_ENV=dev just up": Ran(WORKFLOW),
    "just status": Ran(WORKFLOW),
    "just dev-logs": Ran(WORKFLOW),
    "just logs api-gateway --tail 20": Ran(WORKFLOW),
    "just stop": Ran(WORKFLOW),
    "just up": Ran(WORKFLOW),
    "grep APP_ENV .env": Ran(WORKFLOW),
    "docker compose -p PROJECT exec api-gateway env | grep APP_ENV": Ran(WORKFLOW),
    "just down --volumes --yes": Ran(WORKFLOW),
    # Saved plans: save, check, apply, then the same file refused as stale
    "reconcile --plan --out plan.json": Covered(SAVED),
    "reconcile apply plan.json --plan": Covered(SAVED),
    "reconcile apply plan.json": Covered(SAVED),
    # Watch: the real command against a copy of the stack (or a one-service project)
    "reconcile watch": Covered(WATCH),
    "reconcile watch --plan-only": Covered(WATCH_PLAN),
    "reconcile history": Covered(HISTORY),
    "reconcile history show 1": Covered(HISTORY),
    ".venv/bin/just watch": DryRun(),
    # Automatic rollback: the main case, then --no-rollback, on a copy of the stack
    "reconcile --wait-timeout 30": Covered(ROLLBACK),
    "reconcile --no-rollback": Covered(ROLLBACK),
    # Commands
    "reconcile --version": Ran(HERE),
    'eval "$(_RECONCILE_COMPLETE=bash_source reconcile)"': Ran(HERE),
    # Testing: recipes that run the test suite itself
    ".venv/bin/just test-unit": DryRun(),
    ".venv/bin/just test-integration": DryRun(),
    ".venv/bin/just test-deep": DryRun(),
    ".venv/bin/just mutants": DryRun(),
    # The swarm: needs root and about a minute; its test needs the swarm up
    ".venv/bin/just swarm-up": DryRun(),
    ".venv/bin/just swarm-down": DryRun(),
    "docker -H unix:///run/spot-swarm/manager.sock node ls": Covered(SWARM),
    "RECONCILE_SWARM=1 APP_ENV=test .venv/bin/python -m pytest "
    "tests/integration/test_swarm_infra.py": Covered(SWARM),
    # The Swarm backend: its tests need the swarm and minutes
    ".venv/bin/just test-swarm": DryRun(),
    "APP_ENV=prod reconcile --plan --backend swarm": Covered(SWARM_BACKEND),
    "APP_ENV=prod reconcile --backend swarm": Covered(SWARM_BACKEND),
    # Use it on your own project: installed from a copy into a fresh venv, on a corpus project
    "python3 -m venv ~/.reconcile && ~/.reconcile/bin/pip install ./spot-reconciler": Covered(
        INSTALLED
    ),
    "reconcile doctor": Covered(INSTALLED),
    "reconcile --plan": Covered(INSTALLED),
    "reconcile init": Covered(INSTALLED),
    "APP_ENV=cpu reconcile --plan": Covered(INSTALLED),
    "reconcile init --env prod= --env ai=cpu --force": Covered(INIT_FORCE),
    # Where the project runs wins: the .env switch from the swarm to Compose
    "reconcile status": Covered(SWITCH),
    "reconcile": Covered(SWITCH),
    "reconcile down": Covered(SWITCH),
}

_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
_SHELLS = {"sh", "bash", "shell", "console"}


def readme_commands(text: str) -> list[str]:
    """The command lines of the shell blocks, in order (repeats kept), comments dropped."""
    commands = []
    for language, body in _FENCE.findall(text):
        if language not in _SHELLS:
            continue
        for raw in body.replace("\\\n", " ").splitlines():
            line = raw.strip()
            if language == "console":
                if not line.startswith("$ "):
                    continue  # output
                line = line[2:]
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def readme() -> list[str]:
    return readme_commands((REPO / "README.md").read_text())


def ran_by(test: str) -> list[str]:
    """The README's lines (in README order, repeats kept) that `test` runs."""
    return [line for line in readme() if COMMANDS.get(line) == Ran(test)]


def shell_environment() -> dict[str, str]:
    """The caller's environment with the project's tools (reconcile, just) first on PATH."""
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}


def test_the_parser_finds_commands_and_drops_comments_and_output() -> None:
    text = (
        "```sh\n# a comment\njust up   # apply\nfoo \\\n  --bar\n```\n"
        "```\nnot shell\n```\n"
        "```console\n$ reconcile --version\nreconcile, version 1\n```\n"
    )
    assert readme_commands(text) == ["just up", "foo    --bar", "reconcile --version"]


def test_every_readme_command_is_verified_and_the_table_is_current() -> None:
    commands = readme()
    assert commands, "no shell blocks found in README.md"
    untested = sorted(set(commands) - set(COMMANDS))
    assert untested == [], (
        f"README commands with no test: {untested}; add each to COMMANDS in {__file__}"
    )
    stale = sorted(set(COMMANDS) - set(commands))
    assert stale == [], f"COMMANDS lists lines the README no longer has: {stale}"


@pytest.mark.parametrize("check", sorted({c for c in COMMANDS.values()}, key=repr))
def test_every_named_test_exists(check: Check) -> None:
    if isinstance(check, Ran | Covered):
        path, name = check.test.split("::")
        assert f"def {name}(" in (REPO / path).read_text(), check.test


def test_ci_runs_the_quickstart_verbatim() -> None:
    ci = (REPO / ".ci/run").read_text().splitlines()
    for line, check in COMMANDS.items():
        if isinstance(check, InCi):
            assert line in ci, f".ci/run does not run {line!r}"


@pytest.mark.parametrize("line", [c for c, check in COMMANDS.items() if isinstance(check, DryRun)])
def test_recipes_the_tests_cannot_run_resolve(line: str) -> None:
    just, recipe = line.split(" ", 1)
    assert just == ".venv/bin/just"
    result = subprocess.run(
        ["just", "--dry-run", *recipe.split()],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=shell_environment(),
        timeout=30,
    )
    assert result.returncode == 0, result.stderr


def test_readme_lines_that_need_no_stack_run() -> None:
    lines = ran_by(HERE)
    assert lines, "nothing to run"
    after = {'eval "$(_RECONCILE_COMPLETE=bash_source reconcile)"': "complete -p reconcile"}
    for line in lines:
        script = f"set -e\n{line}\n{after.get(line, '')}"
        result = subprocess.run(
            ["bash", "-c", script],
            capture_output=True,
            text=True,
            cwd=REPO,
            env=shell_environment(),
            timeout=30,
        )
        assert result.returncode == 0, (line, result.stderr)
        assert result.stdout.strip(), line
