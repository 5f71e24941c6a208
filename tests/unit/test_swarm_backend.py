"""Which backend runs an environment: `backend` in environments.toml, `--backend` over it.
No engine is called: choosing one only picks its class."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli.exit_codes import EXIT_ERROR, EXIT_USAGE
from reconciler.cli.main import main
from reconciler.reads.backend import BackendKit, choose
from state.engine import Backend
from state.resolve.project import ComposeProject, load_project
from state.resolve.table import load_table
from state.swarm.adapter import SwarmEngine

REPO = Path(__file__).resolve().parents[2]
TABLE = """default = "prod"
[environments.prod]
description = "x"
files = ["compose.yaml"]
{backend}
[environments.dev]
description = "y"
files = ["compose.yaml"]
"""


def project_dir(tmp_path: Path, backend: str) -> Path:
    compose = tmp_path / "compose"
    compose.mkdir()
    (compose / "compose.yaml").write_text("services: {}\n")
    (compose / "environments.toml").write_text(TABLE.format(backend=backend))
    return tmp_path


def test_the_shipped_environments_all_run_on_compose() -> None:
    table = load_table(REPO / "compose")
    assert {env.backend for env in table.environments.values()} == {"compose"}


class Nowhere:
    """An engine on which the project runs nowhere (the placement question's answer)."""

    def __init__(self, project: object = None) -> None:
        pass

    def has_project(self, name: str) -> bool:
        return False


def test_an_environment_on_a_swarm_gets_the_swarm_engine_unless_overridden(tmp_path: Path) -> None:
    directory = project_dir(tmp_path, 'backend = "swarm"')
    prod = load_project(directory, process_env={"APP_ENV": "prod"})
    dev = load_project(directory, process_env={"APP_ENV": "dev"})
    assert prod.backend == "swarm" and dev.backend == "compose"
    kits = {
        Backend.COMPOSE: BackendKit(Backend.COMPOSE, Nowhere),  # type: ignore[arg-type]
        Backend.SWARM: BackendKit(Backend.SWARM, SwarmEngine, configured=lambda env: False),
    }

    def engine(project: ComposeProject, chosen: Backend | None = None) -> object:
        kit, _ = choose(
            kits, "cli", project.name, chosen=chosen, configured=project.backend,
            why="", environ={},
        )  # fmt: skip
        return kit.engine

    assert engine(prod) is SwarmEngine
    assert engine(dev) is Nowhere
    assert engine(prod, Backend.COMPOSE) is Nowhere
    assert engine(dev, Backend.SWARM) is SwarmEngine


def test_an_unknown_backend_is_one_line_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = project_dir(tmp_path, 'backend = "kubernetes"')
    code = main(["--plan", "--project-directory", str(directory)])
    err = capsys.readouterr().err
    assert code == EXIT_ERROR and len(err.strip().splitlines()) == 1
    assert "environments.prod.backend" in err and "'compose' or 'swarm'" in err
    assert "Traceback" not in err


def test_an_unknown_backend_option_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = project_dir(tmp_path, "")
    code = main(["--plan", "--backend", "nomad", "--project-directory", str(directory)])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE and "'nomad' is not one of 'compose', 'swarm'" in err


def test_watch_on_a_swarm_is_refused_in_one_line_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The watch follows the local engine's events, which a swarm's tasks never send."""
    monkeypatch.setenv("APP_ENV", "prod")  # `just test` sets test, which this table lacks
    directory = project_dir(tmp_path, 'backend = "swarm"')
    code = main(["watch", "--project-directory", str(directory)])
    err = capsys.readouterr().err
    assert code == EXIT_ERROR and len(err.strip().splitlines()) == 1, err
    assert "prod runs on a swarm" in err and "--backend compose" in err
