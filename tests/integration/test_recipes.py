"""The Justfile's recipes hand every argument to `reconcile` unchanged.

Each recipe forwards "$@" (just's positional arguments): an argument holding a space
stays one argument, and one holding shell syntax is a string, never a command.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.plain_stack import (
    REPO,
    copy_project,
    reconcile_environment,
    unique_project_name,
)

JUST = Path(sys.executable).with_name("just")


def just(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(JUST), *args],
        capture_output=True,
        text=True,
        env=reconcile_environment(None),
        cwd=REPO,
        timeout=120,
    )


def test_a_project_directory_with_a_space_arrives_as_one_argument(tmp_path: Path) -> None:
    directory = copy_project(tmp_path / "my stack", {})
    (directory / ".env").write_text("APP_ENV=dev\n")
    name = unique_project_name("space")
    result = just("status", "--project-directory", str(directory), "--project-name", name)
    assert result.returncode == 0, result.stdout + result.stderr
    # APP_ENV=dev can only come from the .env inside "my stack".
    assert "APP_ENV=dev (from" in result.stdout, result.stdout
    assert f"project {name}" in result.stdout


@pytest.mark.parametrize("template", ["x; touch {}", "x $(touch {})", "x`touch {}`"])
def test_shell_syntax_in_an_argument_is_never_run(template: str, tmp_path: Path) -> None:
    marker = tmp_path / "injected"
    argument = template.format(marker)
    result = just("logs", argument, "--project-name", unique_project_name("inject"))
    assert not marker.exists(), "the recipe ran part of an argument as a shell command"
    assert result.returncode != 0
    assert f"no such service: {argument} has no container" in result.stderr
