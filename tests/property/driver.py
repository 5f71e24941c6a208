"""Reconcile against the in-memory engine: observe -> plan -> apply, as `reconcile` does."""

from __future__ import annotations

from tenacity import Retrying

from reconciler.apply import execute
from reconciler.outcome import ApplyResult
from reconciler.plan import Plan, plan
from reconciler.retry import default_retrying
from reconciler.runner import EngineRunner
from state.desired import DesiredState
from state.observed import observe
from tests.memory_engine import MemoryEngine


def quick_retrying() -> Retrying:
    """The product's retry policy, without the waiting."""
    return default_retrying(attempts=3, max_wait=0)


def current_plan(engine: MemoryEngine, desired: DesiredState) -> Plan:
    return plan(desired, observe(engine, desired.project))


def reconcile(engine: MemoryEngine, desired: DesiredState) -> tuple[Plan, ApplyResult]:
    """One run. Health is the real engine's business (the gate has its own tests): no wait."""
    engine.desired = desired
    the_plan = current_plan(engine, desired)
    runner = EngineRunner(engine, desired, wait=False)  # type: ignore[arg-type]
    return the_plan, execute(the_plan, runner, retrying=quick_retrying)
