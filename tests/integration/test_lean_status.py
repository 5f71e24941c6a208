"""`reconcile status` takes the lean path, and the path stays honest (issue 23).

A synthetic project brought up by Compose; then `reconcile status` in its own process,
as a user runs it. Lean: on warm caches neither it nor a no-op `--plan` imports pydantic
(what they read was validated when it was cached), and status imports none of the
modules only other commands use (the apply path, the swarm, python-on-whales,
tenacity, rich, the other commands' CLI), checked on `python -X importtime`, which
lists every module the process imported.
Honest: its output with the compose-config cache answering is the output with the
cache off (everything read from Compose and validated afresh), and a cache whose
entries were corrupted is detected by their checksums, read afresh from Compose and
rewritten, never trusted: the output stays the same.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.reads.config_cache import DISABLE_VARIABLE
from reconciler.store.sealed import unsealed
from tests.bench.synthetic import SyntheticProject
from tests.bench.tools import Compose

# Modules status must not import: other commands' (apply, plan, teardown, watch, init),
# the other backend's, and the libraries only writes or a drawn table use.
NOT_FOR_STATUS = (
    "pydantic",  # the records are dataclasses; pydantic checks only what a cache miss reads
    "pydantic_core",
    "python_on_whales",
    "tenacity",
    "rich",
    "reconciler.commands.converge",
    "reconciler.commands.preview",
    "reconciler.commands.receipts",
    "reconciler.commands.rollback",
    "reconciler.commands.teardown",
    "reconciler.execute.executor",
    "reconciler.execute.runner",
    "reconciler.execute.stages",
    "reconciler.execute.swarm_runner",
    "reconciler.store.lock",
    "reconciler.store.saved_plans",
    "reconciler.watch",
    "reconciler.cli.adopt",
    "reconciler.cli.history",
    "reconciler.cli.json_output",
    "reconciler.cli.teardown",
    "reconciler.cli.watch",
    "state.swarm.adapter",
)
IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", re.MULTILINE)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SyntheticProject]:
    made = SyntheticProject.create(tmp_path_factory.mktemp("lean"), 4, plain=True)
    try:
        Compose(made).run("up", "--detach", app_env="prod")
        yield made
    finally:
        made.remove_everything()


@pytest.fixture()
def places(tmp_path: Path) -> dict[str, str]:
    """A lock, state and cache directory of this test's own (the cache starts empty)."""
    found = {}
    for variable in ("RECONCILE_LOCK_DIR", "RECONCILE_STATE_DIR", "RECONCILE_CACHE_DIR"):
        place = tmp_path / variable.lower()
        place.mkdir(mode=0o700)
        found[variable] = str(place)
    return found


def status(
    project: SyntheticProject,
    places: dict[str, str],
    *flags: str,
    command: str = "status",
    **extra: str,
) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "RECONCILE_"))},
        **places,
        "APP_ENV": "prod",
        **extra,
    }
    argv = [sys.executable, *flags, "-m", "reconciler", *command.split()]
    argv += ["--project-name", project.name, "--project-directory", str(project.directory)]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
    pending_ok = command.endswith("--plan") and command != "--plan"  # stop/down: 2
    assert done.returncode in ((0, 2) if pending_ok else (0,)), done.stdout + done.stderr
    return done


def entries(places: dict[str, str]) -> list[Path]:
    return sorted((Path(places["RECONCILE_CACHE_DIR"]) / "compose-cache").glob("*.json"))


def test_status_imports_none_of_what_only_other_commands_use(
    project: SyntheticProject, places: dict[str, str]
) -> None:
    status(project, places)  # fills the config cache: the run below is a user's second
    done = status(project, places, "-X", "importtime")
    imported = set(IMPORTED.findall(done.stderr))
    assert "reconciler.reads.pipeline" in imported, "no import was listed: the check is void"
    unwanted = sorted(
        module
        for module in imported
        if any(module == name or module.startswith(f"{name}.") for name in NOT_FOR_STATUS)
    )
    assert unwanted == []
    assert "in sync" in done.stdout


def test_a_no_op_plan_on_warm_caches_loads_no_validator(
    project: SyntheticProject, places: dict[str, str]
) -> None:
    """The no-op `--plan` reads what status reads: with the table and the compose model
    validated once (the first run) and cached, its second run imports no pydantic."""
    status(project, places)
    done = status(project, places, "-X", "importtime", command="--plan")
    imported = set(IMPORTED.findall(done.stderr))
    assert "reconciler.reads.pipeline" in imported, "no import was listed: the check is void"
    assert not {"pydantic", "pydantic_core"} & imported
    cold = status(project, places, "-X", "importtime", command="--plan", RECONCILE_NO_CACHE="1")
    assert "pydantic" in set(IMPORTED.findall(cold.stderr))  # a miss validates what it reads


@pytest.mark.parametrize("command", ["stop --plan", "down --plan", "restart --plan"])
def test_the_other_previews_load_no_validator_either(
    project: SyntheticProject, places: dict[str, str], command: str
) -> None:
    """What a teardown or restart would do is a read too: no pydantic, no python-on-whales
    (networks and volumes are listed over the socket), so its first line comes soon.
    Warm: the same preview ran before (its docker command line is cached then)."""
    status(project, places, command=command)
    done = status(project, places, "-X", "importtime", command=command)
    imported = set(IMPORTED.findall(done.stderr))
    assert "reconciler.cli.main" in imported, "no import was listed: the check is void"
    assert not {"pydantic", "pydantic_core", "python_on_whales"} & imported


def test_status_with_the_cache_answering_says_what_it_says_without_it(
    project: SyntheticProject, places: dict[str, str]
) -> None:
    cold = status(project, places, **{DISABLE_VARIABLE: "1"})  # all read and validated
    assert entries(places) == []
    filled = status(project, places)
    assert entries(places), "the config cache was not used"
    hit = status(project, places)
    assert cold.stdout == filled.stdout == hit.stdout
    assert f"project {project.name}" in hit.stdout


def test_a_corrupted_cache_is_detected_read_afresh_and_rewritten(
    project: SyntheticProject, places: dict[str, str]
) -> None:
    expected = status(project, places).stdout
    written = entries(places)
    assert written
    for entry in written:  # each payload changed, its JSON still valid, its checksum not
        entry.write_text(entry.read_text() + " ")
        with pytest.raises(ValueError, match="corrupted"):
            unsealed(entry.name, entry.read_text())
    assert status(project, places).stdout == expected  # Compose answered, not the cache
    for entry in entries(places):  # and each entry was rewritten, sealed again
        unsealed(entry.name, entry.read_text())
