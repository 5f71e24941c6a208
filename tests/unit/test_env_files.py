"""Which env file a command reads, and that Compose is told to read that one and no other."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli.exit_codes import EXIT_ERROR
from reconciler.cli.main import main
from state.resolve.project import load_project

REPO = Path(__file__).resolve().parents[2]


# Read-only commands only: should the check regress, nothing real is torn down.
@pytest.mark.parametrize("argv", [["--plan"], ["status"], ["--plan", "--format", "json"]])
def test_a_missing_env_file_is_one_line_and_exit_1(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    typo = tmp_path / "typo.env"
    argv = [*argv, "--project-directory", str(REPO), "--env-file", str(typo)]
    assert main(argv) == EXIT_ERROR
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"reconcile: env file {typo} does not exist: check the --env-file path, "
        "or leave it out for .env\n"
    )


def test_compose_reads_only_the_env_file_we_read(tmp_path: Path) -> None:
    (tmp_path / "compose").symlink_to(REPO / "compose")
    project = load_project(tmp_path, process_env={})
    # No .env here: Compose must not fall back to compose/.env (its project directory's).
    assert project.env_files() == ()
    assert project.process_variables()["COMPOSE_DISABLE_ENV_FILE"] == "1"
    (tmp_path / ".env").write_text("API_PORT=9999\n")
    assert load_project(tmp_path, process_env={}).env_files() == (tmp_path / ".env",)
