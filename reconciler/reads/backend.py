"""Which backend a command runs on, chosen once per command (resolve stage).

A Backend (state/engine.py) is a name; a BackendKit is what a command needs of it: the
engine factory, the Runner that applies plans and teardowns there, whether `watch` can
follow it, and whether this machine has one at all. The CLI makes the kits
(reconciler/cli/engines.py, the one place that builds engines); `choose` picks one, and
the kit travels as a value to everything that needs it: the commands, the rollback's
engine for the saved model, the watch.

`--backend` wins; else the environment's `backend` (APP_ENV's row of the table),
unless the project runs on the other backend (reconciler/reads/placement.py: reads
and teardowns follow it there, applies refuse). Asking the other backend costs one
engine call, and none when this machine has no such backend configured.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler.reads.placement import Placement, place
from state.backend import Backend
from state.errors import ReconcilerError

if TYPE_CHECKING:
    from reconciler.execute.runner import EngineRunner
    from state.engine import Engine
    from state.resolve.project import ComposeProject

EngineFactory = Callable[["ComposeProject | None"], "Engine"]  # None: a name-only command
RunnerFactory = Callable[..., "EngineRunner"]  # the EngineRunner class, or one like it


def engine_runner(*args: Any, **kwargs: Any) -> EngineRunner:
    """The local engine's Runner, imported when an apply first needs one."""
    from reconciler.execute.runner import EngineRunner

    return EngineRunner(*args, **kwargs)


@dataclass(frozen=True)
class BackendKit:
    """One backend: how to build its engine, apply on it, and whether it can be watched."""

    backend: Backend
    engine: EngineFactory
    runner: RunnerFactory = engine_runner
    watchable: bool = True  # the watch follows the local engine's events
    configured: Callable[[Mapping[str, str]], bool] = lambda environ: True
    describe: Callable[[Mapping[str, str]], str] = lambda environ: "compose"  # for a saved plan


Kits = Mapping[Backend, BackendKit]


def unknown_backend(kits: Kits, wanted: Backend) -> ReconcilerError:
    return ReconcilerError(
        f"backend {wanted} is not available here (available: "
        f"{', '.join(sorted(kits))}): pass --backend {' or '.join(sorted(kits))}"
    )


def choose(
    kits: Kits,
    command: str,
    name: str,
    *,
    chosen: Backend | None,
    configured: Backend | None,
    why: str,
    environ: Mapping[str, str],
) -> tuple[BackendKit, str]:
    """The kit `command` acts with for project `name`, and a note for stderr (empty when
    there is nothing to say). `chosen`: --backend; `configured`: the environment's
    backend (None when the table cannot be read), `why` saying so for messages."""
    if chosen is not None:
        placement = Placement(chosen)
    else:
        placement = place(command, name, configured, why, _runs_on(kits, name, environ))
    kit = kits.get(placement.backend)
    if kit is None:
        raise unknown_backend(kits, placement.backend)
    return kit, placement.note


def _runs_on(kits: Kits, name: str, environ: Mapping[str, str]) -> Callable[[Backend], bool]:
    """The placement question: does `name` run on this backend? No engine call for a
    backend this machine has none of."""

    def runs_on(backend: Backend) -> bool:
        kit = kits.get(backend)
        if kit is None or not kit.configured(environ):
            return False
        return kit.engine(None).has_project(name)

    return runs_on
