"""The convergence properties again, with the compose-config cache on.

Every read of the desire stage goes through reconciler/reads/config_cache.py, as the Docker
adapter's do; the project's compose files hold the engine's desired state, so the
cache's key follows what `compose config` answers from. A stale answer (a hit across a
change) would plan against the wrong desired state and break convergence.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given

from reconciler.reads.config_cache import DISABLE_VARIABLE
from reconciler.store.places import CACHE_DIR_VARIABLE
from state.model.desired import DesiredState
from tests.memory_engine import MemoryEngine
from tests.property import driver
from tests.property import test_properties as properties
from tests.property.driver import current_plan, reconcile
from tests.property.strategies import worlds

MODEL = ("compose_model", ())


@pytest.fixture(scope="module", autouse=True)
def cache_on(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_DIR_VARIABLE, str(tmp_path_factory.mktemp("compose-cache")))
        patch.delenv(DISABLE_VARIABLE, raising=False)
        driver.CACHE["project"] = tmp_path_factory.mktemp("project")
        try:
            yield
        finally:
            driver.CACHE.clear()


def test_convergence_with_the_cache_on() -> None:
    properties.test_convergence()


def test_idempotence_with_the_cache_on() -> None:
    properties.test_idempotence()


@given(worlds())
def test_the_cache_answers_and_plans_as_compose_would(
    case: tuple[DesiredState, MemoryEngine],
) -> None:
    """A second run with unchanged files asks Compose nothing, and still converges."""
    desired, engine = case
    assert reconcile(engine, desired).ok
    asked = engine.calls.count(MODEL)
    second = reconcile(engine, desired)
    assert second.ok, second.error
    assert engine.calls.count(MODEL) == asked, "unchanged inputs, yet Compose was asked"
    assert second.plan.actions == current_plan(engine, desired).actions == ()
