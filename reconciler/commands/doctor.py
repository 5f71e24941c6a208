"""`reconcile doctor`: is everything in place for this project? (a command, read-only)

Each check is one line, ok or fail with its fix, in the order a run needs them: the
engine answers (its endpoint named), the Compose plugin and its version, the project as
Compose finds it (files, directory, name, env files), the environment table (optional),
APP_ENV, the compose files as Compose loads them, the tool's directories (the user's
alone), no other checkout running under the same project name (Compose's working-
directory label), and the images (present, or pullable from their registry, or
buildable from a context that exists). A check that needs an earlier one that failed is
skipped, saying which. Nothing is written, pulled, built or started (the tool's
directories are only looked at).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from reconciler.reads.backend import EngineFactory
from reconciler.reads.opened import ProjectOptions, inputs_of
from reconciler.store.places import (
    CACHE_DIR_VARIABLE,
    LOCK_DIR_VARIABLE,
    STATE_DIR_VARIABLE,
    cache_directory,
    lock_directory,
    private_directory,
    state_directory,
)
from reconciler.store.table_cache import table_cache
from state.docker.endpoint import engine_endpoint
from state.engine import ONEOFF_LABEL
from state.errors import ReconcilerError
from state.model.images import Need, image_name, needs
from state.process.concurrent import together
from state.resolve.inputs import ProjectInputs
from state.resolve.project import ComposeProject, project_from, table_of

WORKING_DIR_LABEL = "com.docker.compose.project.working_dir"


@runtime_checkable
class Diagnosable(Protocol):
    """What doctor asks of the Docker adapter beyond the engine port."""

    def engine_version(self) -> str: ...

    def compose_version(self) -> str: ...

    def registry_answer(self, image: str) -> str: ...


@dataclass(frozen=True)
class Check:
    """One line of the report: `status` ok, fail or skip; `detail` what was found, or
    what is wrong and the fix."""

    name: str
    status: str
    detail: str

    @property
    def failed(self) -> bool:
        return self.status == "fail"


def _ok(name: str, detail: str) -> Check:
    return Check(name, "ok", detail)


def _fail(name: str, detail: str) -> Check:
    return Check(name, "fail", detail)


def _skip(name: str, needs_check: str) -> Check:
    return Check(name, "skip", f"not checked: needs `{needs_check}` to pass first")


def doctor(options: ProjectOptions, engines: EngineFactory) -> list[Check]:
    """Every check, in order; never raises for what it checks."""
    checks: list[Check] = []
    probe = engines(None)
    diagnosable = isinstance(probe, Diagnosable)
    engine_ok = _step(checks, "engine", lambda: _engine(probe) if diagnosable else None)
    compose_ok = engine_ok and _step(checks, "compose", lambda: _compose(probe))
    if not engine_ok:
        checks.append(_skip("compose", "engine"))
    inputs: list[ProjectInputs] = []
    found_ok = _step(checks, "project", lambda: _project(options, inputs))
    project: list[ComposeProject] = []
    table_ok = found_ok and _step(checks, "table", lambda: _table(inputs[0], options, project))
    for name, needed in (("table", "project"), ("APP_ENV", "table")):
        if not (found_ok if needed == "project" else table_ok):
            checks.append(_skip(name, needed))
    if table_ok:
        checks.append(_app_env(project[0]))
    checks.append(_directories())
    if not (compose_ok and table_ok):
        for name in ("files", "checkouts", "images"):
            checks.append(_skip(name, "compose" if not compose_ok else "table"))
        return checks
    model: list[dict[str, Any]] = []
    if _step(checks, "files", lambda: _files(engines, project[0], model)):
        checks.append(_checkouts(engines, project[0]))
        checks.append(_images(engines, project[0], model[0]))
    else:
        checks += [_skip("checkouts", "files"), _skip("images", "files")]
    return checks


def _step(checks: list[Check], name: str, run: Callable[[], str | None]) -> bool:
    """Run one check: its detail, or its error (which names the fix) as a failure."""
    try:
        detail = run()
    except ReconcilerError as exc:
        checks.append(_fail(name, str(exc)))
        return False
    if detail is None:
        checks.append(_fail(name, "this engine cannot be asked (not the Docker adapter)"))
        return False
    checks.append(_ok(name, detail))
    return True


def _engine(probe: Any) -> str:
    return f"Docker engine {probe.engine_version()} answers at {engine_endpoint()}"


def _compose(probe: Any) -> str:
    version = str(probe.compose_version()).strip().removeprefix("v")
    note = "" if version.startswith("2.40.") else " (env files are read as 2.40 reads them)"
    return f"Docker Compose {version}{note}"


def _project(options: ProjectOptions, inputs: list[ProjectInputs]) -> str:
    inputs.append(inputs_of(options))
    found = inputs[0].found
    assert found is not None
    files = ", ".join(_shown(f, found.compose_directory) for f in found.files)
    how = {
        "-f": f"from --file: {files}",
        "COMPOSE_FILE": f"from COMPOSE_FILE: {files}",
        "search": f"{files}, found from {Path.cwd()}",
        "table": f"the table {found.table} names them",
    }[found.how]
    env = ", ".join(str(p) for p in inputs[0].env_files) or "none"
    notes = "".join(f"; {note}" for note in found.notes)
    directory = found.compose_directory
    return f"compose files: {how}; project directory {directory}; env files: {env}{notes}"


def _table(inputs: ProjectInputs, options: ProjectOptions, project: list[ComposeProject]) -> str:
    table = table_of(inputs, table_cache())
    project.append(project_from(inputs, table, options.project_name))
    resolved = project[0]
    if table is None:
        return (
            f"none (optional): project {resolved.name} runs as `docker compose up` would; "
            "`reconcile init` writes one"
        )
    names = ", ".join(table.names)
    return f"{resolved.table_path}: environments {names} (default {table.default})"


def _app_env(project: ComposeProject) -> Check:
    if not project.app_env.has_table:
        return _ok("APP_ENV", "not used: the project has no environment table")
    return _ok("APP_ENV", f"{project.app_env}; profiles {', '.join(project.profiles) or 'none'}")


def _files(engines: EngineFactory, project: ComposeProject, model: list[dict[str, Any]]) -> str:
    model.append(engines(project).compose_model())
    services = sorted(model[0].get("services") or {})
    return f"project {project.name}: {len(services)} service(s) to run: {listed(services)}"


def _directories() -> Check:
    environ = os.environ
    places = (
        ("lock directory", lock_directory(environ), LOCK_DIR_VARIABLE),
        ("state directory", state_directory(environ), STATE_DIR_VARIABLE),
        ("cache directory", cache_directory(environ), CACHE_DIR_VARIABLE),
    )
    for kind, directory, variable in places:
        if not directory.exists():
            continue  # made 0700 on first use
        try:
            private_directory(directory, kind=kind, variable=variable, threat="tamper with it")
        except ReconcilerError as exc:
            return _fail("directories", str(exc))
    shown = ", ".join(dict.fromkeys(str(d) for _, d, _ in places))
    return _ok("directories", f"yours alone (or made so on first use): {shown}")


def _checkouts(engines: EngineFactory, project: ComposeProject) -> Check:
    try:
        records = engines(None).containers(project.name)
    except ReconcilerError as exc:
        return _fail("checkouts", str(exc))
    here = str(project.compose_dir)
    others = sorted(
        {
            r.labels.get(WORKING_DIR_LABEL, "")
            for r in records
            if r.labels.get(ONEOFF_LABEL) != "True" and r.labels.get(WORKING_DIR_LABEL) != here
        }
    )
    if others:
        return _fail(
            "checkouts",
            f"project {project.name} already runs from {', '.join(others)}, not {here}: "
            "give one of them another name (--project-name or COMPOSE_PROJECT_NAME)",
        )
    running = f"{len(records)} container(s) from here" if records else "nothing running yet"
    return _ok("checkouts", f"no other directory runs project {project.name} ({running})")


def _images(engines: EngineFactory, project: ComposeProject, model: Mapping[str, Any]) -> Check:
    services: Mapping[str, Mapping[str, Any]] = model.get("services") or {}
    engine = engines(None)
    names = sorted({image_name(n, raw, project.name) for n, raw in services.items()})
    try:
        present = frozenset(engine.image_ids(names))
    except ReconcilerError as exc:
        return _fail("images", str(exc))
    wanted = needs(services, project.name, present)
    problems = _problems(engine, services, wanted)
    summary = _summary(len(names), wanted)
    if problems:
        return _fail("images", f"{summary}; " + "; ".join(problems))
    return _ok("images", summary)


def _summary(count: int, wanted: Mapping[str, tuple[str, Need]]) -> str:
    """How many images `up` uses, and which it would pull or build."""
    pulls = sorted({i for i, need in wanted.values() if need in (Need.PULL, Need.PULL_OR_BUILD)})
    builds = sorted({image for image, need in wanted.values() if need is Need.BUILD})
    parts = [f"{count} image(s)"]
    parts += [f"to pull: {listed(pulls)}"] if pulls else []
    parts += [f"to build: {listed(builds)}"] if builds else []
    return ", ".join(parts) if len(parts) > 1 else f"{count} image(s), all on this engine"


def listed(names: Sequence[str], shown: int = 6) -> str:
    """Up to `shown` names, then how many more: a check stays one readable line."""
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _problems(
    engine: Any,
    services: Mapping[str, Mapping[str, Any]],
    wanted: Mapping[str, tuple[str, Need]],
) -> list[str]:
    """What `up` could not get, grouped: never pulled, contexts missing, per registry."""
    never = sorted({image for image, need in wanted.values() if need is Need.MISSING})
    contexts = sorted(
        {
            context
            for name, (_, need) in wanted.items()
            if need in (Need.BUILD, Need.PULL_OR_BUILD)
            and (context := _missing_context(services[name]))
        }
    )
    pulled = sorted(
        {image for image, need in wanted.values() if need in (Need.PULL, Need.PULL_OR_BUILD)}
    )
    problems = []
    if never:
        problems.append(
            f"not on this engine, no build and pull_policy never: {listed(never)}: "
            "build or load them first"
        )
    if contexts:
        problems.append(f"build contexts that do not exist: {listed(contexts)}")
    refused = _unpullable(engine, pulled)
    for registry, (answer, images) in sorted(refused.items()):
        problems.append(
            f"cannot be pulled from {registry}: {listed(images)} ({answer}): make the registry "
            "reachable, or put the images on this engine (`docker load`, `docker tag`)"
        )
    return problems


def _unpullable(engine: Any, images: Sequence[str]) -> dict[str, tuple[str, list[str]]]:
    """registry -> (its first answer, the images it refused), asked once per image."""
    if not images or not isinstance(engine, Diagnosable):
        return {}

    def asked(image: str) -> str:
        try:
            return engine.registry_answer(image)
        except ReconcilerError as exc:
            return str(exc)

    answers = together(*(lambda i=i: asked(i) for i in images))
    refused: dict[str, tuple[str, list[str]]] = {}
    for image, answer in zip(images, answers, strict=True):
        if answer:
            refused.setdefault(registry_of(image), (answer, []))[1].append(image)
    return refused


def registry_of(image: str) -> str:
    """The registry an image reference names (Docker's rule: a first part with a dot, a
    port or `localhost`), else Docker Hub."""
    first, slash, _ = image.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def _missing_context(raw: Mapping[str, Any]) -> str:
    """The build context when it is a directory that does not exist ("" otherwise)."""
    build = raw.get("build")
    context = build.get("context") if isinstance(build, dict) else build
    if not context or "://" in str(context) or str(context).startswith("git@"):
        return ""
    return "" if Path(str(context)).is_dir() else str(context)


def _shown(path: Path, directory: Path) -> str:
    return str(path.relative_to(directory)) if path.is_relative_to(directory) else str(path)
