"""`reconcile init`: write an environment table for a project that has none (a command).

The project is found as Compose finds it (reconciler/reads/opened.py, the table
ignored), Compose says which services every profile declares and which services each
environment would run (the project's engine, handed in by the CLI), and the table is
written beside the compose files (Compose's project directory), where the next command
finds it. By default: `prod`, what plain `docker compose up` runs (the profiles of
COMPOSE_PROFILES, as Compose reads it), then one environment per declared profile
holding that profile alone; `--env NAME=PROFILE[,PROFILE...]` chooses instead, the
first named being the default. Each environment is commented with its services. An
existing table is never overwritten without `force`. The text is checked by the same
loader every command uses before it is written.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol, runtime_checkable

from reconciler.store.atomic import Kind, write_kept
from state.engine import ComposeSource
from state.errors import ConfigError, ReconcilerError
from state.resolve.appenv import VARIABLE
from state.resolve.inputs import ProjectInputs
from state.resolve.project import ComposeProject
from state.resolve.table import TABLE_FILE, validated_table

DEFAULT_NAME = "prod"
_ENV_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_READS_APP_ENV = re.compile(r"(?<!\$)\$\{?APP_ENV\b")


@runtime_checkable
class DeclaresProfiles(Protocol):
    """What Compose says about every service, whatever its profiles (the Docker adapter)."""

    def service_profiles(self) -> dict[str, tuple[str, ...]]: ...


@dataclass(frozen=True)
class Wanted:
    """One environment to write: its name, profiles, and what it is, for its comment."""

    name: str
    profiles: tuple[str, ...]
    what: str


@dataclass(frozen=True)
class Row:
    """One environment as written: the services Compose runs in it (None: it cannot
    load the files with these profiles, `problem` says why)."""

    wanted: Wanted
    services: tuple[str, ...] | None
    problem: str = ""


@dataclass(frozen=True)
class Written:
    """What init wrote, for the CLI to show."""

    path: Path
    rows: tuple[Row, ...]
    files: tuple[str, ...]
    notes: tuple[str, ...]


def parse_env(text: str) -> tuple[str, tuple[str, ...]]:
    """`NAME=PROFILE[,PROFILE...]` (`NAME=`: no profile); ConfigError otherwise."""
    name, sep, profiles = text.partition("=")
    if not sep or not _ENV_NAME.match(name):
        raise ConfigError(
            f"--env {text!r} is not NAME=PROFILE[,PROFILE...]: the name takes lower-case "
            "letters, digits, '-' and '_', starting with a letter (e.g. --env dev=dev,debug)"
        )
    return name, tuple(dict.fromkeys(p.strip() for p in profiles.split(",") if p.strip()))


def table_path(project: ComposeProject) -> Path:
    return project.compose_dir / TABLE_FILE


def init(
    project: ComposeProject,
    engines: Callable[[ComposeProject], ComposeSource],
    requested: Sequence[tuple[str, tuple[str, ...]]] = (),
    *,
    force: bool = False,
    app_env: tuple[str, str] | None = None,
) -> Written:
    """Write the table for `project` (found without one); ConfigError when a table is
    there and `force` is not given, or a requested profile is not declared."""
    path = table_path(project)
    if path.exists() and not force:
        raise ConfigError(
            f"{path} exists: nothing was written; `reconcile init --force` rewrites it"
        )
    engine = engines(project)
    if not isinstance(engine, DeclaresProfiles):
        raise ReconcilerError("init asks Compose itself: it needs the Docker engine's Compose")
    profiles = {p for ps in engine.service_profiles().values() for p in ps if "$" not in p}
    declared = sorted(profiles, key=lambda p: (p.lower(), p))
    wanted = _chosen(requested, declared) if requested else _defaults(project, declared)
    rows = tuple(_row(project, engines, w) for w in wanted)
    files = tuple(os.path.relpath(f, project.compose_dir) for f in project.files)
    text = render(project, rows, files)
    validated_table(tomllib.loads(text))  # as every command will load it
    write_kept(path, text, Kind.USER_FILE)
    return Written(path, rows, files, _notes(project, wanted, app_env))


def _defaults(project: ComposeProject, declared: Sequence[str]) -> list[Wanted]:
    active = ",".join(project.default_profiles) or "none"
    wanted = [
        Wanted(
            DEFAULT_NAME,
            project.default_profiles,
            f"what plain `docker compose up` runs (COMPOSE_PROFILES: {active})",
        )
    ]
    taken = {DEFAULT_NAME}
    for profile in declared:
        name = _env_name(profile, taken)
        taken.add(name)
        wanted.append(Wanted(name, (profile,), f"the profile {profile}"))
    return wanted


def _env_name(profile: str, taken: set[str]) -> str:
    name = re.sub(r"[^a-z0-9_-]+", "-", profile.lower()).strip("-_")
    if not name or not name[0].isalpha():
        name = f"profile-{name}".rstrip("-")
    base, count = name, 1
    while name in taken:
        count += 1
        name = f"{base}-{count}"
    return name


def _chosen(
    requested: Sequence[tuple[str, tuple[str, ...]]], declared: Sequence[str]
) -> list[Wanted]:
    seen: set[str] = set()
    wanted = []
    for name, profiles in requested:
        if name in seen:
            raise ConfigError(f"--env {name} is given twice: name each environment once")
        seen.add(name)
        for profile in profiles:
            if profile not in declared:
                close = difflib.get_close_matches(profile, declared, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                listed = ", ".join(declared) or "none"
                raise ConfigError(
                    f"--env {name}: no service declares the profile {profile!r}{hint}; "
                    f"the declared profiles are: {listed}"
                )
        shown = ", ".join(profiles) or "none"
        wanted.append(Wanted(name, profiles, f"--env {name}: profiles {shown}"))
    return wanted


def _row(
    project: ComposeProject, engines: Callable[[ComposeProject], ComposeSource], wanted: Wanted
) -> Row:
    variant = replace(project, default_profiles=wanted.profiles)
    try:
        model = engines(variant).compose_model()
    except ReconcilerError as exc:
        return Row(wanted, None, str(exc))
    return Row(wanted, tuple(sorted(model.get("services") or {})))


def render(project: ComposeProject, rows: Sequence[Row], files: Sequence[str]) -> str:
    """The table's text: TOML, every environment commented with its services."""
    lines = [
        f"# The environments of the Compose project {project.name}, written by `reconcile init`.",
        f"# {VARIABLE} picks one (the shell, else .env, else `default`), e.g.",
        f"# `{VARIABLE}={rows[-1].wanted.name} reconcile --plan`. Each is how Compose is called:",
        "# `files` (-f, relative to this folder), `profiles` (--profile), `variables` (set",
        "# for interpolation; the shell wins). Edit freely: `reconcile doctor` checks it.",
        f"default = {_quoted(rows[0].wanted.name)}",
    ]
    for row in rows:
        lines += ["", f"# {row.wanted.what[0].upper()}{row.wanted.what[1:]}."]
        if row.services is None:
            lines.append(f"# Compose cannot load the files with these profiles: {row.problem}")
        else:
            lines.append(f"# services: {', '.join(row.services) or 'none'}")
        lines += [
            f"[environments.{row.wanted.name}]",
            f"files = [{', '.join(_quoted(f) for f in files)}]",
            f"profiles = [{', '.join(_quoted(p) for p in row.wanted.profiles)}]",
        ]
    return "\n".join(lines) + "\n"


def _quoted(text: str) -> str:
    return json.dumps(text)  # a TOML basic string


def selected(inputs: ProjectInputs) -> tuple[str, str] | None:
    """APP_ENV as it is set now, and where: what the next command would resolve."""
    from_process = inputs.environ.get(VARIABLE)
    if from_process:
        return from_process, "from the command line"
    binding = inputs.from_env_file(VARIABLE)
    if binding and binding.value:
        return binding.value, f"from {inputs.file_of(VARIABLE)}:{binding.line}"
    return None


def _notes(
    project: ComposeProject, wanted: Sequence[Wanted], app_env: tuple[str, str] | None
) -> tuple[str, ...]:
    """What the user should know: an APP_ENV already set that names none of them, and
    compose files that read APP_ENV, which from now on is the environment's name."""
    names = [w.name for w in wanted]
    notes = []
    if app_env is not None and app_env[0] not in names:
        notes.append(
            f"{VARIABLE}={app_env[0]!r} ({app_env[1]}) is not one of these environments: "
            f"`reconcile` will refuse it until {VARIABLE} names one of {', '.join(names)} "
            "(or an environment is renamed)"
        )
    reading = [f.name for f in project.files if _READS_APP_ENV.search(_text(f))]
    if reading:
        notes.append(
            f"{', '.join(reading)} read {VARIABLE}: with the table, Compose gets the "
            f"environment's name there ({names[0]} by default)"
        )
    return tuple(notes)


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
