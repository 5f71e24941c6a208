"""The plan names the container numbers Compose will really give.

The in-memory engine numbers like Compose (tests/integration/test_numbering.py checks
it against the real engine): a new container gets the highest number plus one. So
after a run, each service holds exactly the numbers it kept plus the numbers its
CREATE actions announced and the new numbers of the replicas it recreated one by one,
whatever gaps and duplicates the world started with.
"""

from __future__ import annotations

from collections import Counter

from hypothesis import given

from reconciler.planner.plan import ActionKind
from state.engine import NUMBER_LABEL, ONEOFF_LABEL
from state.model.desired import DesiredState
from state.model.observed import observe
from tests.memory_engine import MemoryEngine
from tests.property.driver import reconcile
from tests.property.strategies import PROJECT, worlds


@given(worlds())
def test_plan_names_the_numbers_the_engine_gives(case: tuple[DesiredState, MemoryEngine]) -> None:
    """On the world drawn; then, converged, with the lowest replica of each scaled
    service removed by hand (a gap below the highest number: Compose never fills it)."""
    desired, engine = case
    numbers_as_planned(desired, engine)
    for name, spec in desired.services.items():
        mine = [
            c
            for c in engine.containers_by_id.values()
            if c.project == PROJECT and c.service == name and c.labels.get(ONEOFF_LABEL) != "True"
        ]
        if spec.replicas > 1 and mine:
            engine.disturb_remove(min(mine, key=lambda c: int(c.labels[NUMBER_LABEL])).id)
    numbers_as_planned(desired, engine)


def numbers_as_planned(desired: DesiredState, engine: MemoryEngine) -> None:
    before = observe(engine, desired.project)
    result = reconcile(engine, desired)
    assert result.ok, result.error
    the_plan = result.plan
    removed = {a.container_id for a in the_plan.actions if a.kind is ActionKind.REMOVE}
    removed |= {a.container_id for a in the_plan.actions if a.renumbered is not None}
    for name in desired.services:
        mine = [a for a in the_plan.actions if a.service == name]
        announced = [a.number for a in mine if a.kind is ActionKind.CREATE]
        announced += [a.renumbered for a in mine if a.renumbered is not None]
        kept = [c.number for c in before.of(name) if c.id not in removed]
        now = [
            int(c.labels[NUMBER_LABEL])
            for c in engine.containers_by_id.values()
            if c.project == PROJECT and c.service == name and c.labels.get(ONEOFF_LABEL) != "True"
        ]
        assert Counter(now) == Counter(kept + announced), (name, kept, announced)
