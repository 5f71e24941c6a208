"""A property of rollback (hypothesis, in-memory engine): whatever the stack and whichever
changed services are broken, a failed apply leaves every broken service running its
previous configuration, nothing unhealthy, and the journal still the last good one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from reconciler.store import journal, places
from state.model.desired import DesiredState
from tests.builders import desired, service
from tests.unit.test_rollback import Sick, apply, hashes


@st.composite
def worlds(draw: st.DrawFn) -> tuple[DesiredState, DesiredState, set[str]]:
    """The last good state, the next one (some services changed), and the broken ones."""
    count = draw(st.integers(1, 5))
    names = [f"s{i}" for i in range(count)]
    changed = draw(st.sets(st.sampled_from(names), min_size=1))
    broken = draw(st.sets(st.sampled_from(sorted(changed))))
    deps = {
        n: draw(st.sets(st.sampled_from(names[:i]))) if i else set() for i, n in enumerate(names)
    }
    health = {n: draw(st.booleans()) or n in broken for n in names}

    def state(version: str) -> DesiredState:
        return desired(
            *(
                service(
                    n,
                    depends_on=sorted(deps[n]),
                    has_healthcheck=health[n],
                    config_hash=f"{n}-{version if n in changed else 'v1'}",
                )
                for n in names
            )
        )

    return state("v1"), state("v2"), {f"{n}-v2" for n in broken}


@contextmanager
def private_directories() -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in ("RECONCILE_LOCK_DIR", places.STATE_DIR_VARIABLE)}
    with tempfile.TemporaryDirectory() as root:
        os.environ["RECONCILE_LOCK_DIR"] = f"{root}/locks"
        os.environ[places.STATE_DIR_VARIABLE] = f"{root}/state"
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@given(worlds())
def test_a_failed_apply_leaves_every_broken_service_on_its_previous_hash(
    drawn: tuple[DesiredState, DesiredState, set[str]],
) -> None:
    good, bad, sick = drawn
    with private_directories():
        world = Sick(good)
        assert apply(world, good)[0] is None
        world.sick |= sick
        error, _ = apply(world, bad)
        running = hashes(world)
        if not sick:
            assert error is None
            return
        assert error is not None and error.startswith("rolled back: "), error
        for name, spec in bad.services.items():
            assert running[name] in {good.services[name].config_hash, spec.config_hash}
            assert running[name] not in sick  # went back, or was never reached
        assert all(c.health != "unhealthy" for c in world.containers_by_id.values())
        saved = journal.load(good.project)
        assert saved is not None  # the journal keeps the good state, as the checkout read it
        assert replace(saved.desired, checkout=None) == good

        assert apply(world, good)[0] is None  # back to the good state: nothing left over
        assert hashes(world) == {n: s.config_hash for n, s in good.services.items()}
        assert journal.records(good.project) == {}
