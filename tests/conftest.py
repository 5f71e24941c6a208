"""Shared test settings: hypothesis profiles (ci is the default, deep runs 10x more), and
a private state directory for the rollback journals of every test project."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "deep", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure() -> None:
    # `just mutants` only: break one function on purpose (RECONCILER_MUTANT), to show
    # that the properties catch it. Applied before any test module is imported.
    from tests.property.mutants import apply_selected

    apply_selected()


@pytest.fixture(scope="session", autouse=True)
def private_state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Rollback journals (reconciler/store/journal.py) of test projects never reach the user's
    state directory, where a real project of the same name (`spot`) keeps its own; the
    integration tests' `reconcile` processes inherit this too."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RECONCILE_STATE_DIR", str(tmp_path_factory.mktemp("state")))
        yield
