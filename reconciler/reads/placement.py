"""Where a project runs: local Compose, the swarm, both or neither (resolve stage).

APP_ENV names a backend (compose/environments.toml), but a project deployed under an
earlier APP_ENV may still run on the other one: after `.env` moves from an environment
on the swarm to one on Compose, the stack keeps running on the swarm. So, without
`--backend`, a command first asks the *other* backend whether the project runs there
(the swarm: services in its stack namespace; Compose: containers with its project
label, one-offs aside), and asks APP_ENV's own only when it does:
- status, stop, down, logs act where the project runs: on the other backend when it
  runs only there (saying so on stderr). On both, status shows APP_ENV's and warns;
  stop, down and logs refuse and name `--backend`: two copies are a mistake for the
  user to resolve (which one is meant), not one to guess at.
- reconcile, restart, apply FILE and watch refuse when it runs on the other backend,
  nothing touched: applying would start a second copy (two writers to one database).
With a broken environment table the backend is unknown: Compose is asked about last.

Cost: the swarm is asked only when one is configured on this machine (SWARM_MANAGER_HOST
set, or the socket of `just swarm-up` present), so on a machine without one a command
on Compose makes no extra engine call; one on the swarm asks the local engine (one call).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from state.backend import Backend
from state.errors import EngineError, ReconcilerError

RunsOn = Callable[[Backend], bool]  # does the project run there? EngineError: can't tell
# The read-only and teardown commands (click's names), and what they do where it runs.
ACTING = {
    "status": "showing it there (`reconcile` here would refuse: bring it down there first)",
    "stop": "stopping it there",
    "down": "removing it there",
    "logs": "showing its logs from there",
}
LABEL = {Backend.COMPOSE: "local Compose", Backend.SWARM: "the swarm"}


class RunsElsewhere(ReconcilerError):
    """The project runs on another backend than the one the command would act on."""


@dataclass(frozen=True)
class Placement:
    backend: Backend  # where the command acts
    note: str = ""  # for stderr: why it acts there, or what could not be checked


def other(backend: Backend) -> Backend:
    return Backend.COMPOSE if backend is Backend.SWARM else Backend.SWARM


def place(
    command: str, name: str, configured: Backend | None, why: str, runs_on: RunsOn
) -> Placement:
    """Where `command` (click's name; any but ACTING's applies) acts for project `name`,
    whose APP_ENV wants `configured` (None: unknown), `why` saying so for messages."""
    base = configured or Backend.COMPOSE
    away = other(base)
    try:
        there = runs_on(away)
    except EngineError as exc:
        if command in ACTING:
            return Placement(
                base, f"could not check {LABEL[away]} for project {name} ({exc}): acting on {base}"
            )
        if away is Backend.COMPOSE:  # a local engine that does not answer runs nothing (the
            return Placement(base)  # swarm's apply needs it: it fails there, naming the fix)
        raise RunsElsewhere(  # a swarm's tasks outlive its manager: a copy may run there
            f"cannot tell whether project {name} also runs on the swarm ({exc}); nothing "
            f"was changed: pass --backend {base} to apply here all the same (or, if the "
            "local swarm is gone, clear what it left with `just swarm-down`)"
        ) from None
    if not there:
        return Placement(base)
    try:
        here = runs_on(base)
    except EngineError:
        here = False  # it runs on the other one: that is all any answer needs
    fix = f"reconcile down --backend {away}"
    if command not in ACTING:
        runs = f"runs on both backends ({base} too)" if here else f"runs on the {away} backend"
        raise RunsElsewhere(
            f"project {name} {runs}, but {why}: applying here would start a second copy; "
            f"nothing was changed: bring it down there first (`{fix}`)"
            + ("" if here else f", or act there with --backend {away}")
        )
    if not here:
        return Placement(
            away, f"project {name} runs on {LABEL[away]}, but {why}: {ACTING[command]}"
        )
    if command == "status":
        return Placement(
            base,
            f"warning: project {name} also runs on {LABEL[away]}, a second copy: "
            f"see it with `reconcile status --backend {away}`, remove it with `{fix}`",
        )
    raise RunsElsewhere(
        f"project {name} runs on both backends (compose and the swarm); {why}: "
        f"name the copy to act on: `reconcile {command} --backend compose` or `--backend swarm`"
    )
