"""`reconcile logs` by name (render stage): the services' logs, as Compose prints them.

Like stop and down it needs only the project's name and its containers
(reconciler/reads/opened.py's Named), so missing images or a broken compose file never
block it; kept apart from them so it imports nothing of planning or applying: its
first line comes sooner (state/docker/api_logs.py prints it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from state.errors import ConfigError

if TYPE_CHECKING:
    from reconciler.reads.opened import Named


def logs(named: Named, services: Sequence[str], *, follow: bool, tail: str | None) -> int:
    """The services' logs (all when none is named). Needs only the project's name; a
    service with no container in the project is refused (Compose, reading no file,
    would print nothing)."""
    engine, name = named.engine, named.name
    present: set[str] = set()
    if services:  # only then: the observed state's reading is not needed to print all
        from reconciler.reads.pipeline import read_observed

        present = {c.service for c in read_observed(engine, name).containers}
    for service in services:
        if service not in present:
            raise ConfigError(
                f"no such service: {service} has no container in project {name}; "
                "see `reconcile status` for the services that run"
            )
    return engine.stream_logs(name, services, follow=follow, tail=tail)
