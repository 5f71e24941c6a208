"""The project's name: --project-name, else COMPOSE_PROJECT_NAME, else the checkout
directory normalised as compose-go does. No Compose call, no engine."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from reconciler.cli.exit_codes import EXIT_ERROR
from reconciler.cli.main import main
from state.errors import ConfigError
from state.resolve.inputs import read_inputs
from state.resolve.naming import normalise, project_name
from state.resolve.project import COMPOSE_DIR

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("directory", "name"),
    [
        ("house", "house"),
        ("My Checkout.2", "mycheckout2"),
        ("__Spot-Dev", "spot-dev"),
        ("spot_1", "spot_1"),
        ("-_9lives", "9lives"),
        ("Ünïcode", "ncode"),
    ],
)
def test_directory_names_are_normalised_as_compose_does(directory: str, name: str) -> None:
    assert normalise(directory) == name


def test_precedence_flag_then_environment_then_env_file_then_directory(tmp_path: Path) -> None:
    checkout = tmp_path / "Checkout_A"
    checkout.mkdir()
    env_file = checkout / ".env"

    def name(explicit: str | None = None, **env: str) -> str:
        return project_name(read_inputs(checkout, environ=env), explicit=explicit)

    assert name() == "checkout_a"
    env_file.write_text("COMPOSE_PROJECT_NAME=from-file\n")
    assert name() == "from-file"
    assert name(COMPOSE_PROJECT_NAME="from-env") == "from-env"
    assert name("from-flag", COMPOSE_PROJECT_NAME="from-env") == "from-flag"


@pytest.mark.parametrize("bad", ["Spot", "-spot", "spot.dev", "spot dev"])
def test_an_invalid_explicit_name_is_refused_naming_the_fix(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ConfigError, match=r"is not a valid project name: use lower-case"):
        project_name(read_inputs(tmp_path, environ={}), explicit=bad)


def test_a_directory_name_with_nothing_usable_asks_for_a_name(tmp_path: Path) -> None:
    odd = tmp_path / "___"
    odd.mkdir()
    with pytest.raises(ConfigError, match="pass --project-name"):
        project_name(read_inputs(odd, environ={}), explicit=None)


def test_the_compose_file_fixes_no_name() -> None:
    text = (REPO / COMPOSE_DIR / "compose.yaml").read_text()
    assert not re.search(r"^name:", text, re.MULTILINE)


def untouchable(project: object) -> object:
    raise AssertionError("the engine must not even be opened")


@pytest.mark.parametrize("argv", [["stop"], ["down"], ["--plan"], ["status"], ["logs"]])
def test_an_invalid_project_name_is_one_line_exit_1_and_nothing_opened(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([*argv, "--project-name", "Not Valid"], engine=untouchable)  # type: ignore[arg-type]
    assert code == EXIT_ERROR
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "reconcile: --project-name 'Not Valid' is not a valid project name: use lower-case "
        "letters, digits, '-' and '_', starting with a letter or digit\n"
    )


def test_two_checkouts_are_two_projects(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.builders import desired, service
    from tests.memory_engine import MemoryEngine

    names = []
    for directory in ("Checkout-One", "checkout_two"):
        checkout = tmp_path / directory
        shutil.copytree(REPO / COMPOSE_DIR, checkout / COMPOSE_DIR)
        engine = MemoryEngine(desired(service("db")))

        def factory(project: object, world: MemoryEngine = engine) -> MemoryEngine:
            return world

        code = main(["--plan", "--project-directory", str(checkout)], engine=factory)
        assert code == 2
        names.append(capsys.readouterr().out.splitlines()[0].split(" · ")[1])
        assert engine.calls[-1] == ("containers", (names[-1].removeprefix("project "),))
    assert names == ["project checkout-one", "project checkout_two"]
