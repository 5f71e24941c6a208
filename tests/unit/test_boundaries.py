"""Layer boundaries, folder by folder: dependencies run one way, with no circles.

state: backend (a name) -> process, the port (engine, errors, secrets) -> resolve -> model
  -> docker -> swarm.
reconciler: planner -> store -> execute -> reads | render -> commands -> watch -> cli.
An import may only go down this order (or stay in its folder, without a circle there);
the planner imports nothing that does I/O; the renderer loads no engine code; `state`
never imports `reconciler`; only the Docker adapter imports python_on_whales; only the
CLI builds engines. Imports inside functions count as much as those at the top.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("state", "reconciler")
# Lower first. A module directly in a package (state/engine.py) is its own "folder".
RANK = {
    "state.process": 0,
    "state.engine": 0,
    "state.backend": -1,  # a name only: below the port that re-exports it
    "state.errors": 0,
    "state.stored": 0,  # the records as JSON: every layer stores or reads them
    "state.secrets": 0,
    "state.resolve": 1,
    "state.model": 2,
    "state.docker": 3,
    "state.swarm": 4,
    "reconciler.planner": 10,
    "reconciler.store": 11,
    "reconciler.notify": 12,  # runs the notifier: below the commands that call it
    "reconciler.execute": 12,
    "reconciler.reads": 13,
    "reconciler.render": 13,
    "reconciler.commands": 14,
    "reconciler.watch": 15,
    "reconciler.cli": 16,
    "reconciler.__main__": 17,
}
# What our own layers use for I/O. (The standard library's incidental imports, such as
# the `socket` that pydantic pulls in through importlib.metadata, are not a signal.)
DOES_IO = (
    "dotenv",
    "python_on_whales",
    "subprocess",
    "filelock",
    "tomllib",
    "tenacity",
    "httpx",
    "click",
    "rich",
)
# Engine code: the adapters and their choke point, the retry library, locking and
# process spawning.
ENGINE_CODE = (
    "python_on_whales",
    "state.docker.adapter",
    "state.docker.run",
    "state.swarm.adapter",
    "tenacity",
    "filelock",
    "subprocess",
    "reconciler.reads",
    "reconciler.commands",
)
ADAPTERS = ("state.docker.adapter", "state.docker.compose", "state.swarm.adapter")


def modules() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            yield name, path


def folder(module: str) -> str:
    """The folder a module belongs to: `reconciler.planner.plan` -> `reconciler.planner`."""
    parts = module.split(".")
    return ".".join(parts[:2])


def imports_of(path: Path, module: str) -> set[str]:
    """Every module `path` imports, at the top or inside a function, relative ones resolved."""
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            # `from reconciler.render import plans` imports the module reconciler.render.plans
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def ours(names: set[str], known: set[str]) -> set[str]:
    return {n for n in names if n in known}


def graph() -> dict[str, set[str]]:
    found = dict(modules())
    known = set(found)
    return {name: ours(imports_of(path, name), known) - {name} for name, path in found.items()}


def test_every_module_is_in_a_ranked_folder() -> None:
    unranked = {name for name, _ in modules() if folder(name) not in RANK and "." in name}
    assert unranked == set()


def test_imports_only_go_down_between_folders() -> None:
    climbs = sorted(
        f"{importer} -> {imported}"
        for importer, targets in graph().items()
        if "." in importer
        for imported in targets
        if "." in imported
        and folder(imported) != folder(importer)
        and RANK[folder(imported)] >= RANK[folder(importer)]
    )
    assert climbs == []


def test_no_circle_inside_a_folder() -> None:
    edges = graph()
    circles: list[list[str]] = []

    def visit(node: str, path: list[str], done: set[str]) -> None:
        for child in sorted(edges.get(node, ())):
            if folder(child) != folder(node):
                continue
            if child in path:
                circles.append([*path[path.index(child) :], child])
            elif child not in done:
                visit(child, [*path, child], done)
        done.add(node)

    done: set[str] = set()
    for start in sorted(edges):
        if start not in done:
            visit(start, [start], done)
    assert circles == []


def test_state_never_imports_reconciler() -> None:
    offenders = {
        name: sorted(t for t in targets if t.startswith("reconciler"))
        for name, targets in graph().items()
        if name.startswith("state")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_only_the_docker_adapter_imports_python_on_whales() -> None:
    """Its Compose side builds the command lines with it."""
    importers = {
        name
        for name, path in modules()
        if any(n.split(".")[0] == "python_on_whales" for n in imports_of(path, name))
    }
    assert importers == {"state.docker.compose"}


def test_only_the_cli_builds_engines() -> None:
    """The adapters are imported (to be built) only by reconciler/cli; the commands,
    reads and watch get engines handed to them."""
    importers = {
        name
        for name, targets in graph().items()
        if name.startswith("reconciler") and targets & set(ADAPTERS)
    }
    assert importers and all(name.startswith("reconciler.cli.") for name in importers)


def loaded_by(module: str, watched: tuple[str, ...]) -> list[str]:
    """The watched modules (or their submodules) that importing `module` loads."""
    probe = (
        f"import sys; import {module}; watched = {watched!r}; "
        "print(sorted(m for m in sys.modules "
        "if any(m == w or m.startswith(w + '.') for w in watched)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=True
    ).stdout.strip()
    return list(ast.literal_eval(out))


@pytest.mark.parametrize(
    "module", ["reconciler.planner.plan", "reconciler.planner.snapshot", "reconciler.planner"]
)
def test_the_planner_loads_no_io_module(module: str) -> None:
    assert loaded_by(module, DOES_IO) == []


@pytest.mark.parametrize(
    "module", ["reconciler.render.plans", "reconciler.render.status", "reconciler.render"]
)
def test_the_renderer_loads_no_engine_code(module: str) -> None:
    assert loaded_by(module, ENGINE_CODE) == []


def test_the_commands_take_the_port_and_never_load_an_adapter() -> None:
    assert loaded_by("reconciler.commands.converge", ("python_on_whales", *ADAPTERS)) == []
    assert loaded_by("reconciler.commands.teardown", ("python_on_whales", *ADAPTERS)) == []


def test_no_module_is_over_350_lines() -> None:
    sizes = {name: len(path.read_text().splitlines()) for name, path in modules()}
    assert {name: n for name, n in sizes.items() if n > 350} == {}


def test_the_cli_loads_neither_python_on_whales_nor_rich_until_used() -> None:
    """Their imports cost more than a status read: the adapter loads python-on-whales on
    its first command line, the status table rich only to draw what plain columns
    cannot."""
    assert loaded_by("reconciler.cli.main", ("python_on_whales", "rich")) == []


def test_the_boundaries_see_every_module() -> None:
    """A glob that found nothing would pass every test above: count what they read."""
    names = {name for name, _ in modules()}
    assert len(names) > 60
    assert {"reconciler.planner.plan", "state.docker.adapter", "reconciler.cli.main"} <= names
