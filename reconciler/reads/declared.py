"""What the compose files say each service depends on, for a teardown (resolve stage).

`stop` and `down` plan from the observed state alone, ordering by the containers'
depends_on labels. Compose writes that label from the services of the one call that
created the container, so one our apply created in a later wave (`up --no-deps api`,
after db's health gate) carries no edge to db. Compose's own `stop` and `down` order by
the compose files when they can be read; so do ours: the files' edges are added to
the labels' (reconciler/planner/teardown.py). Read through the config cache (a hit
after any command on the same inputs costs no Compose call); files that cannot be
read (a broken table or compose file) add nothing, and the labels alone order it.
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.reads.opened import Named
from state.errors import ReconcilerError


def declared_dependencies(named: Named) -> Mapping[str, tuple[str, ...]]:
    """Service -> the services it depends on, as APP_ENV's compose files declare them;
    empty when they cannot be read."""
    if named.source is None:
        return {}
    try:
        model = named.source.compose_model()
    except ReconcilerError:
        return {}
    services = model.get("services") or {}
    return {
        name: tuple(spec.get("depends_on") or ())
        for name, spec in services.items()
        if isinstance(spec, Mapping)
    }
