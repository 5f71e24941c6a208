"""Content drift over generated worlds (in-memory engine): a new digest of one content
file recreates exactly the services that use it, naming the file, and nothing else;
then the stack converges and a second run changes nothing."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from reconciler.planner.plan import ActionKind
from state.model.desired import DesiredState
from tests.memory_engine import MemoryEngine
from tests.property.driver import current_plan, reconcile
from tests.property.strategies import desired_states

FILES = ("compose/app.conf", "compose/token.txt", "requirements.txt")


@st.composite
def with_content(draw: st.DrawFn) -> DesiredState:
    """A desired state whose services each use up to two content files."""
    desired = draw(desired_states(allow_restart=False))
    services = {
        name: replace(
            spec,
            content={
                f: "d0" for f in draw(st.lists(st.sampled_from(FILES), unique=True, max_size=2))
            },
        )
        for name, spec in desired.services.items()
    }
    return replace(desired, services=services)


def edited(desired: DesiredState, file: str) -> DesiredState:
    """What Compose says after `file` is edited: its users' digest and label change, so
    their config hash does too (the label is part of the service's configuration)."""
    services = {
        name: replace(
            spec, content={**spec.content, file: "d1"}, config_hash=f"{spec.config_hash}+{file}"
        )
        if file in spec.content
        else spec
        for name, spec in desired.services.items()
    }
    return replace(desired, services=services)


@given(with_content(), st.sampled_from(FILES))
def test_a_content_edit_recreates_exactly_the_services_that_use_the_file(
    desired: DesiredState, file: str
) -> None:
    engine = MemoryEngine(desired)
    assert reconcile(engine, desired).ok
    before = engine.snapshot()
    now = edited(desired, file)
    engine.desired = now  # the file was edited
    users = {n for n, s in desired.services.items() if file in s.content and s.replicas > 0}

    planned = current_plan(engine, now)
    assert {a.kind for a in planned.actions} <= {ActionKind.RECREATE}
    assert {a.service for a in planned.actions} == users
    assert all(a.reasons == (f"content of {file} changed",) for a in planned.actions)

    result = reconcile(engine, now)
    assert result.ok, result.error
    untouched = {cid for cid, c in before.items() if c.service not in users}
    assert untouched <= set(engine.containers_by_id)
    assert all(engine.containers_by_id[cid] == before[cid] for cid in untouched)
    assert current_plan(engine, now).actions == ()
    writes = len(engine.writes)
    assert reconcile(engine, now).plan.is_empty
    assert len(engine.writes) == writes
