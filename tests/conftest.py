"""Shared test settings: hypothesis profiles (ci is the default, deep runs 10x more)."""

from __future__ import annotations

import os

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
