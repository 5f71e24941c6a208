"""Guardrails, over generated worlds: deciding them is pure (no engine call beyond the
one identity read), and the apply never performs a blocked action: a refused,
unconfirmed or policy-blocked plan leaves the engine exactly as it was.
`just mutants` skips the enforcement (`skip-guards`), which this property catches."""

from __future__ import annotations

import dataclasses
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from reconciler.commands import converge
from reconciler.planner.guards import evaluate
from reconciler.planner.plan import plan
from reconciler.reads.opened import Opened
from state.errors import ReconcilerError
from state.model.desired import DesiredState
from state.model.observed import observe
from state.resolve.table import EnvironmentTable, validated_table
from tests.memory_engine import MemoryEngine
from tests.property.driver import SETTINGS, TABLE, kit, project_for
from tests.property.strategies import ENVS, worlds


@st.composite
def guarded_tables(draw: st.DrawFn) -> EnvironmentTable:
    production = draw(st.booleans())
    allow = draw(st.lists(st.sampled_from(ENVS), min_size=1, unique=True))
    engines = {"here": {"daemon": "laptop", "production": production, "allow": allow}}
    policies = []
    if draw(st.booleans()):  # every service of a world publishes nothing: this one fires
        policies.append({"name": "env", "rule": "app-env-matches", "environments": list(ENVS)})
    raw = {**dataclasses.asdict(TABLE), "engines": engines, "policies": policies}
    return validated_table(raw)


@given(worlds(), guarded_tables())
def test_a_blocked_plan_changes_nothing_and_deciding_it_calls_no_engine(
    case: tuple[DesiredState, MemoryEngine], table: EnvironmentTable
) -> None:
    desired, engine = case
    engine.desired = desired
    # A service that says another APP_ENV: the policy, when drawn, finds it.
    if desired.services:
        name = sorted(desired.services)[0]
        odd = replace(desired.services[name], app_env="staging")
        desired = replace(desired, services={**desired.services, name: odd})
        engine.desired = desired
    before = engine.snapshot()
    calls = len(engine.calls)
    observed = observe(engine, desired.project)
    reads = len(engine.calls) - calls
    verdict = evaluate(
        table, desired.app_env.name, engine.identity(), desired, observed, plan(desired, observed)
    )
    assert len(engine.calls) - calls == reads + 1  # the identity only: deciding is pure
    blocked = bool(verdict.refusal or verdict.blocking or verdict.confirmations)
    project = replace(project_for(desired), table=table)
    opened = Opened(project, kit(engine), engine, engine)
    writes = len(engine.writes)
    try:
        converge.apply(opened, dataclasses.replace(SETTINGS), lambda text: None)
        refused = False
    except ReconcilerError:
        refused = True
    if blocked:
        assert refused and engine.writes[writes:] == [] and engine.snapshot() == before
