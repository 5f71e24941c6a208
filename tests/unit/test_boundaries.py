"""Layer boundaries: the planner imports nothing that does I/O; the renderer loads no
engine code; `state` never imports `reconciler`; only the Docker adapter imports
python_on_whales."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
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


# Engine code: the adapter, the retry library, locking and process spawning.
ENGINE_CODE = (
    "python_on_whales",
    "state.docker.adapter",
    "tenacity",
    "filelock",
    "subprocess",
    "reconciler.reads.pipeline",
    "reconciler.commands.converge",
)


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


def test_importing_the_planner_loads_no_io_module() -> None:
    assert loaded_by("reconciler.planner.plan", DOES_IO) == []


def test_importing_the_renderer_loads_no_engine_code() -> None:
    assert loaded_by("reconciler.render.plans", ENGINE_CODE) == []


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_state_never_imports_reconciler() -> None:
    for path in (REPO / "state").rglob("*.py"):
        assert not {n for n in imports_of(path) if n.split(".")[0] == "reconciler"}, path.name


def test_only_the_adapter_imports_python_on_whales() -> None:
    importers = {
        path.relative_to(REPO).as_posix()
        for package in ("state", "reconciler")
        for path in (REPO / package).rglob("*.py")
        if any(n.split(".")[0] == "python_on_whales" for n in imports_of(path))
    }
    assert importers == {"state/docker/adapter.py"}


def test_the_commands_take_the_port_and_never_load_the_adapter() -> None:
    """Only the CLI wires in the Docker adapter; the commands and reads get an engine."""
    assert (
        loaded_by("reconciler.commands.converge", ("python_on_whales", "state.docker.adapter"))
        == []
    )
    importers = {
        path.relative_to(REPO).as_posix()
        for path in (REPO / "reconciler").rglob("*.py")
        if "state.docker.adapter" in imports_of(path)
    }
    assert importers == {"reconciler/cli/main.py"}


def test_no_module_is_over_350_lines() -> None:
    sizes = {
        path.relative_to(REPO).as_posix(): len(path.read_text().splitlines())
        for package in ("state", "reconciler")
        for path in (REPO / package).rglob("*.py")
    }
    assert {name: n for name, n in sizes.items() if n > 350} == {}


def test_the_cli_loads_neither_python_on_whales_nor_rich_until_used() -> None:
    """Issue 9: their imports cost more than a status read; the adapter loads
    python-on-whales on its first command line, the status table rich only to draw
    what plain columns cannot."""
    assert loaded_by("reconciler.cli.main", ("python_on_whales", "rich")) == []
