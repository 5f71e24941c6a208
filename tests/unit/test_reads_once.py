"""Each input is read once per command: the env file parsed once, the environment table
loaded once, the engine built once, the config cache consulted once (the content stage
re-keys the view it was given; logs never, stop and down only for the order the files
declare). Counted through the real CLI over the in-memory engine, for every command, on
a project whose services use a content file (the content stage runs) and with the cache
on."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

import reconciler.reads.config_cache
import reconciler.reads.opened
import state.resolve.envfile
import state.resolve.inputs
import state.resolve.project
import state.resolve.table
from reconciler.cli.main import main
from reconciler.reads.config_cache import DISABLE_VARIABLE
from reconciler.store.places import CACHE_DIR_VARIABLE
from state.resolve.project import COMPOSE_DIR, ComposeProject
from tests.builders import desired, service
from tests.memory_engine import MemoryEngine

REPO = Path(__file__).resolve().parents[2]
COMMANDS = [
    ["--plan"],
    ["status"],
    ["--no-wait"],
    ["restart", "--no-wait"],
    ["stop"],
    ["stop", "--plan"],
    ["down", "--plan"],
    ["down"],
    ["logs"],
    ["--plan", "--out", "{saved}"],
    ["apply", "{saved}", "--no-wait"],
]


class CacheableWorld(MemoryEngine):
    """The in-memory engine, its Compose answers cacheable (as the Docker adapter's)."""

    def compose_inputs(self) -> list[str]:
        return ["in-memory"]

    def compose_files(self) -> list[Path]:
        return []

    def warm_state(self) -> dict[str, Any]:
        return {}

    def use_warm_state(self, state: Mapping[str, Any]) -> None:
        pass


class Counted:
    """How often each watched function ran."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            return function(*args, **kwargs)

        return counted


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the stack's table, declaring a content file of db (the content stage)."""
    directory = tmp_path / "checkout"
    shutil.copytree(REPO / COMPOSE_DIR, directory / COMPOSE_DIR, ignore=lambda d, n: ["images"])
    table = directory / COMPOSE_DIR / "environments.toml"
    table.write_text(table.read_text().replace("# [content]\n", '[content]\ndb = ["app.conf"]\n'))
    (directory / COMPOSE_DIR / "app.conf").write_text("listen 80\n")
    (directory / ".env").write_text("APP_ENV=prod\nCOMPOSE_PROJECT_NAME=spot\n")
    monkeypatch.delenv("APP_ENV", raising=False)
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path / "cache"))
    monkeypatch.delenv(DISABLE_VARIABLE, raising=False)
    yield directory


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_every_input_is_read_once(
    argv: list[str], project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted = Counted()
    monkeypatch.setattr(
        state.resolve.inputs, "parse", counted.wrap("env file parsed", state.resolve.envfile.parse)
    )
    monkeypatch.setattr(
        state.resolve.project,
        "load_table",
        counted.wrap("table loaded", state.resolve.table.load_table),
    )
    monkeypatch.setattr(
        reconciler.reads.opened,
        "cached",
        counted.wrap("config cache consulted", reconciler.reads.config_cache.cached),
    )
    world = CacheableWorld(desired(service("db")))
    built: list[ComposeProject | None] = []

    def factory(target: ComposeProject | None) -> CacheableWorld:
        built.append(target)
        return world

    saved = str(project.parent / "saved.plan")
    if argv[0] == "apply":  # a saved plan to apply, written before counting
        assert main(["--plan", "--out", saved, "--project-directory", str(project)],
                    engine=lambda target: world) == 2  # fmt: skip
        counted.calls.clear()
    argv = [word.format(saved=saved) for word in argv]
    code = main([*argv, "--project-directory", str(project)], engine=factory)
    assert code in (0, 2), argv
    assert counted.calls["env file parsed"] == 1
    assert counted.calls["table loaded"] == 1
    assert len(built) == 1, "the engine was built more than once"
    name_only = argv[0] in ("stop", "down", "logs")
    consults = 0 if argv[0] == "logs" else 1  # stop and down: the order the files declare
    assert counted.calls.get("config cache consulted", 0) == consults
    overrides = list((project.parent / "cache" / "content").glob("*.yaml"))
    assert len(overrides) == (0 if name_only else 1), "the content stage did not run"
