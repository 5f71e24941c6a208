"""Deliberately broken reconcilers, to show that each property can fail (`just mutants`).

Each mutant patches one function of the product and names the property test (a node
id under tests/property/: never a unit test) that must catch it.
`python -m tests.property.mutants` runs that property alone under each mutant
(RECONCILER_MUTANT=name; tests/conftest.py applies it), with the plugin
tests/property/mutant_report.py recording how it ended. A mutant is caught only when
an assertion of that property fails (AssertionError, as hypothesis re-raises it after
shrinking); the shrunk counterexample is printed. Any other exception (a TypeError
from a wrapper whose signature went stale, an ImportError, an AttributeError, a
collection error) is a HARNESS ERROR: the mutant proved nothing. It exits 1 if any
mutant survives or errs. Never set in normal runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

VARIABLE = "RECONCILER_MUTANT"
PROPERTIES = "tests/property/"
PROPS = "tests/property/test_properties.py"
COMMANDS = "tests/property/test_commands.py"
REPORT = "RECONCILER_MUTANT_REPORT"


@dataclass(frozen=True)
class Mutant:
    bug: str
    target: str
    apply: Callable[[], None]


def _wrap(module: Any, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    setattr(module, name, make(getattr(module, name)))


def no_dependency_order() -> None:
    import reconciler.planner.plan as p

    _wrap(
        p,
        "_order",
        lambda orig: lambda actions, d, o: tuple(replace(a, wave=1) for a in orig(actions, d, o)),
    )


def teardown_dependencies_first() -> None:
    import reconciler.planner.plan as p

    def make(orig: Callable[..., Any]) -> Callable[..., Any]:
        def order(actions: Any, d: Any, o: Any) -> Any:
            result = orig(actions, d, o)
            removal_waves = sorted({a.wave for a in result if a.kind is p.ActionKind.REMOVE})
            flip = dict(zip(removal_waves, reversed(removal_waves), strict=True))
            flipped = [
                replace(a, wave=flip.get(a.wave, a.wave)) if a.kind is p.ActionKind.REMOVE else a
                for a in result
            ]
            return tuple(sorted(flipped, key=lambda a: a.wave))

        return order

    _wrap(p, "_order", make)


def drift_only_starts() -> None:
    import reconciler.planner.plan as p
    from reconciler.planner.actions import action_on

    _wrap(
        p,
        "_recreate",
        lambda orig: (
            lambda service, container, reasons: action_on(
                p.ActionKind.START, service.name, container, reasons
            )
        ),
    )


def recreate_everything() -> None:
    import reconciler.planner.plan as p

    _wrap(
        p,
        "_plan_service",
        lambda orig: (
            lambda service, containers, strategy, *rest: orig(
                service, containers, p.Strategy.ALWAYS, *rest
            )
        ),
    )


def unsorted_plan() -> None:
    import reconciler.planner.plan as p

    def make(orig: Callable[..., Any]) -> Callable[..., Any]:
        def order(actions: Any, d: Any, o: Any) -> Any:
            waves = {(a.service, a.number, a.container_id): a.wave for a in orig(actions, d, o)}
            kept = [replace(a, wave=waves[(a.service, a.number, a.container_id)]) for a in actions]
            return tuple(sorted(kept, key=lambda a: a.wave))  # stable: input order within a wave

        return order

    _wrap(p, "_order", make)


def restart_forever() -> None:
    import reconciler.planner.plan as p
    from reconciler.planner.actions import action_on

    def make(orig: Callable[..., Any]) -> Callable[..., Any]:
        def restarts(desired: Any, observed: Any, actions: Any) -> Any:
            result = orig(desired, observed, actions)
            busy = {a.service for a in actions}
            for c in observed.containers:
                if c.running and c.service in desired.services and c.service not in busy:
                    return [*result, action_on(p.ActionKind.RESTART, c.service, c, ("again",))]
            return result

        return restarts

    _wrap(p, "_restart_dependents", make)


def fill_the_gap() -> None:
    import reconciler.planner.plan as p

    def make(orig: Callable[..., Any]) -> Callable[..., Any]:
        def plan_service(service: Any, containers: Any, *rest: Any) -> Any:
            actions, noop = orig(service, containers, *rest)
            removed = {a.container_id for a in actions if a.kind is p.ActionKind.REMOVE}
            taken = {c.number for c in containers if c.id not in removed}
            free = (n for n in range(1, 1000) if n not in taken)
            return [
                replace(a, number=next(free)) if a.kind is p.ActionKind.CREATE else a
                for a in actions
            ], noop

        return plan_service

    _wrap(p, "_plan_service", make)


def observe_everything() -> None:
    import state.model.observed as o
    from state.engine import SERVICE_LABEL

    def observe(engine: Any, project: str) -> Any:
        containers = [
            o._observed(r) for r in engine.containers(project) if SERVICE_LABEL in r.labels
        ]
        return o.ObservedState(
            project=project,
            containers=tuple(sorted(containers, key=lambda c: (c.service, c.number, c.name))),
        )

    o.observe = observe


def forget_paused() -> None:
    import reconciler.planner.plan as p
    from state.engine import ContainerStatus

    def make(orig: Callable[..., Any]) -> Callable[..., Any]:
        def decide(service: Any, container: Any, *rest: Any) -> Any:
            if container.status is ContainerStatus.PAUSED:
                return p.NoopReason.IN_SYNC
            return orig(service, container, *rest)

        return decide

    _wrap(p, "_decide", make)


def no_retry() -> None:
    from tenacity import Retrying, stop_after_attempt

    import reconciler.execute.executor as a

    _wrap(
        a,
        "execute",
        lambda orig: (
            lambda plan, runner, **kw: orig(
                plan,
                runner,
                **{**kw, "retrying": lambda: Retrying(stop=stop_after_attempt(1), reraise=True)},
            )
        ),
    )


def dotenv_beats_command_line() -> None:
    import state.resolve.precedence as r

    def make(orig: Callable[..., Any]) -> Callable[..., Any]:
        def resolve(table: Any, inputs: Any) -> Any:
            if inputs.from_env_file("APP_ENV"):
                inputs = replace(inputs, environ={})
            return orig(table, inputs)

        return resolve

    _wrap(r, "resolve", make)


def skip_final_check() -> None:
    import reconciler.commands.converge as c

    def make(orig: Callable[..., Any]) -> Callable[..., Any]:
        def verify(result: Any, remaining: Any, say: Any) -> None:
            orig(result, replace(remaining, actions=()), say)

        return verify

    _wrap(c, "_verify", make)


def restart_without_stop() -> None:
    import reconciler.planner.plan as p

    def make(orig: Callable[..., Any]) -> Callable[..., Any]:
        def decide(service: Any, container: Any, *rest: Any) -> Any:
            decided = orig(service, container, *rest)
            if isinstance(decided, list):
                return [a for a in decided if a.kind is not p.ActionKind.STOP]
            return decided

        return decide

    _wrap(p, "_decide", make)


def lock_released_early() -> None:
    from contextlib import contextmanager

    import reconciler.commands.converge as c

    def make(orig: Callable[..., Any]) -> Callable[..., Any]:
        @contextmanager
        def released(project: str, timeout: float, **kwargs: Any) -> Iterator[None]:
            with orig(project, timeout, **kwargs):
                pass
            yield

        return released

    _wrap(c, "project_lock", make)


def plan_flag_before_command_ignored() -> None:
    import reconciler.cli.main as cli

    cli.planning = lambda ctx, params: bool(params.get("plan_only"))  # type: ignore[attr-defined]


def content_unnamed() -> None:
    import reconciler.planner.plan as p

    p._changed_content = lambda service, container: []


def join_past_held() -> None:
    import reconciler.execute.stages as j

    j.Stage.hold = lambda self, actions: None  # type: ignore[method-assign]


def rerun_one_shots() -> None:
    import reconciler.planner.plan as p

    def make(orig: Callable[..., Any]) -> Callable[..., Any]:
        return lambda service, container, strategy, one_shot, *rest: orig(
            service, container, strategy, False, *rest
        )

    _wrap(p, "_decide", make)


def image_ignored() -> None:
    import reconciler.planner.plan as p

    def make(orig: Callable[..., Any]) -> Callable[..., Any]:
        def drift(*args: Any) -> Any:
            return tuple(r for r in orig(*args) if r != "image changed")

        return drift

    _wrap(p, "_drift", make)


def app_env_ignored_when_hash_matches() -> None:
    import reconciler.planner.plan as p

    def make(orig: Callable[..., Any]) -> Callable[..., Any]:
        def drift(service: Any, container: Any, *rest: Any) -> Any:
            reasons = orig(service, container, *rest)
            if container.config_hash == service.config_hash:
                return tuple(r for r in reasons if not r.startswith("APP_ENV"))
            return reasons

        return drift

    _wrap(p, "_drift", make)


def restart_true_never() -> None:
    import reconciler.planner.plan as p

    p._restart_dependents = lambda desired, observed, actions: []


def exit_1_completed() -> None:
    import reconciler.planner.plan as p
    from state.engine import ContainerStatus

    def make(orig: Callable[..., Any]) -> Callable[..., Any]:
        def decide(service: Any, container: Any, strategy: Any, one_shot: Any, *rest: Any) -> Any:
            decided = orig(service, container, strategy, one_shot, *rest)
            exited = container.status is ContainerStatus.EXITED
            starts = isinstance(decided, list) and all(
                a.kind is p.ActionKind.START for a in decided
            )
            if one_shot and exited and starts:
                return p.NoopReason.COMPLETED
            return decided

        return decide

    _wrap(p, "_decide", make)


def paused_started() -> None:
    import reconciler.planner.plan as p

    def make(orig: Callable[..., Any]) -> Callable[..., Any]:
        def decide(*args: Any) -> Any:
            decided = orig(*args)
            if isinstance(decided, list):
                return [
                    replace(a, kind=p.ActionKind.START) if a.kind is p.ActionKind.UNPAUSE else a
                    for a in decided
                ]
            return decided

        return decide

    _wrap(p, "_decide", make)


def every_dependency_a_one_shot() -> None:
    import reconciler.execute.runner as r
    import reconciler.planner.plan as p

    def all_dependencies(desired: Any) -> frozenset[str]:
        return frozenset(d.service for s in desired.services.values() for d in s.depends_on)

    p.one_shots = all_dependencies
    setattr(r, "one_shots", all_dependencies)  # noqa: B010 (not re-exported)


def one_replica_recreate_replaces_all() -> None:
    import reconciler.execute.runner as r
    from state.engine import Recreate

    def recreate(self: Any, services: Any, actions: Any) -> None:
        self.engine.up(list(services), recreate=Recreate.ALWAYS)

    r.EngineRunner._recreate = recreate  # type: ignore[method-assign]


def writes_beyond_the_plan() -> None:
    import reconciler.execute.runner as r
    from reconciler.planner.actions import ActionKind
    from state.engine import Recreate

    def make(orig: Callable[..., Any]) -> Callable[..., Any]:
        def perform(self: Any, kind: Any, actions: Any) -> None:
            if kind is ActionKind.CREATE and self.desired is not None:
                wanted = [n for n, s in self.desired.services.items() if s.replicas]
                self.engine.up(wanted, recreate=Recreate.NEVER)  # `up` of everything
                return
            orig(self, kind, actions)

        return perform

    _wrap(r.EngineRunner, "perform", make)


def saved_plan_not_replanned() -> None:
    import reconciler.store.saved_plans as s

    s.differences = lambda saved, fresh: []


def skip_guards() -> None:
    import reconciler.commands.converge as c

    c.enforce = lambda guard, settings, say: None


MUTANTS: dict[str, Mutant] = {
    "no-dependency-order": Mutant(
        "every action in one wave: dependents may come up before their dependencies",
        f"{PROPS}::test_order_dependencies_are_up_first",
        no_dependency_order,
    ),
    "join-past-held": Mutant(
        "a later action joins a stage although a dependency of it was held back",
        f"{PROPS}::test_order_dependencies_are_up_first",
        join_past_held,
    ),
    "teardown-dependencies-first": Mutant(
        "removal waves reversed: what others depend on is removed first",
        f"{PROPS}::test_order_dependents_are_removed_first",
        teardown_dependencies_first,
    ),
    "drift-only-starts": Mutant(
        "drift (APP_ENV, hash, image, dead, unlabelled) planned as start, not recreate",
        f"{PROPS}::test_convergence",
        drift_only_starts,
    ),
    "recreate-everything": Mutant(
        "every wanted container recreated, matching or not",
        f"{PROPS}::test_minimality",
        recreate_everything,
    ),
    "unsorted-plan": Mutant(
        "actions kept in input order within a wave",
        f"{PROPS}::test_purity_deterministic_under_permutation",
        unsorted_plan,
    ),
    "restart-forever": Mutant(
        "a running service is restarted on every run", f"{PROPS}::test_idempotence", restart_forever
    ),
    "fill-the-gap": Mutant(
        "new replicas planned into the lowest free numbers (Compose uses the highest + 1)",
        "tests/property/test_numbering.py::test_plan_names_the_numbers_the_engine_gives",
        fill_the_gap,
    ),
    "observe-everything": Mutant(
        "one-off containers are not filtered out when observing",
        f"{PROPS}::test_boundaries_other_projects_and_one_offs_are_never_touched",
        observe_everything,
    ),
    "forget-paused": Mutant(
        "a paused container counts as in sync",
        "tests/property/test_stateful.py::TestReconcilerMachine::runTest",
        forget_paused,
    ),
    "no-retry": Mutant(
        "transient engine errors are not retried",
        "tests/property/test_faults.py::test_a_transient_failure_is_retried_within_the_same_run",
        no_retry,
    ),
    "skip-final-check": Mutant(
        "apply reports success without checking that a fresh plan is empty",
        "tests/property/test_faults.py::test_apply_succeeds_only_when_a_fresh_plan_is_empty",
        skip_final_check,
    ),
    "restart-without-stop": Mutant(
        "restart recreates without its explicit stops",
        f"{COMMANDS}::test_restart_stops_each_running_container_before_recreating_it",
        restart_without_stop,
    ),
    "lock-released-early": Mutant(
        "the project lock is released before the commands write",
        f"{COMMANDS}::test_every_write_happens_under_the_project_lock",
        lock_released_early,
    ),
    "plan-before-command-ignored": Mutant(
        "`reconcile --plan stop` acts: --plan counts only after the command's name",
        f"{COMMANDS}::test_plan_changes_nothing_whatever_the_command",
        plan_flag_before_command_ignored,
    ),
    "content-unnamed": Mutant(
        "a content edit is planned as a generic configuration change, the file unnamed",
        "tests/property/test_content.py::test_a_content_edit_recreates_exactly_the_services_that_use_the_file",
        content_unnamed,
    ),
    "rerun-one-shots": Mutant(
        "a one-shot that completed (exited 0) is started again by every apply",
        "tests/property/test_one_shots.py::test_one_shots_end_completed_and_a_second_apply_runs_none_again",
        rerun_one_shots,
    ),
    "image-ignored": Mutant(
        "a rebuilt image is ignored: the container keeps running the old one",
        f"{PROPS}::test_convergence",
        image_ignored,
    ),
    "app-env-ignored-when-hash-matches": Mutant(
        "an APP_ENV mismatch is ignored when the config hash matches",
        f"{PROPS}::test_convergence",
        app_env_ignored_when_hash_matches,
    ),
    "restart-true-never": Mutant(
        "`restart: true` dependents are never restarted when their dependency is recreated",
        f"{PROPS}::test_restart_true_dependents_restart_when_their_dependency_is_new",
        restart_true_never,
    ),
    "exit-1-completed": Mutant(
        "a one-shot that exited 1 counts as completed",
        f"{PROPS}::test_convergence",
        exit_1_completed,
    ),
    "paused-started": Mutant(
        "a paused container is started instead of unpaused (Docker refuses)",
        f"{PROPS}::test_convergence",
        paused_started,
    ),
    "every-dependency-a-one-shot": Mutant(
        "every dependency is treated as a one-shot: one that exited 0 is left stopped",
        f"{PROPS}::test_convergence",
        every_dependency_a_one_shot,
    ),
    "one-replica-recreate-replaces-all": Mutant(
        "recreating one replica replaces every replica of the service",
        "tests/property/test_numbering.py::test_plan_names_the_numbers_the_engine_gives",
        one_replica_recreate_replaces_all,
    ),
    "writes-beyond-the-plan": Mutant(
        "a create brings up every service (`up` of the project), not only the planned one",
        f"{PROPS}::test_writes_stay_within_the_plan",
        writes_beyond_the_plan,
    ),
    "saved-plan-not-replanned": Mutant(
        "a saved plan is applied without comparing it with a fresh plan",
        "tests/property/test_saved_plans.py::test_a_plan_saved_before_the_scale_changed_is_refused",
        saved_plan_not_replanned,
    ),
    "skip-guards": Mutant(
        "the guardrails are decided but not enforced",
        "tests/property/test_guards.py::test_a_blocked_plan_changes_nothing_and_deciding_it_calls_no_engine",
        skip_guards,
    ),
    "dotenv-beats-command-line": Mutant(
        ".env wins over the command line",
        "tests/property/test_precedence.py::test_resolved_value_is_the_highest_set_level",
        dotenv_beats_command_line,
    ),
}


def apply_selected() -> None:
    """Called from tests/conftest.py before any test module is imported."""
    name = os.environ.get(VARIABLE)
    if name:
        MUTANTS[name].apply()


@dataclass
class Verdict:
    """How the mutant's property ended: caught (an assertion of it failed), survived
    (it passed), or a harness error (anything else); `lines`: what to show."""

    outcome: str
    lines: list[str]


def _entries(path: str) -> list[dict[str, Any]]:
    try:
        with open(path, encoding="utf-8") as report:
            return [json.loads(line) for line in report if line.strip()]
    except FileNotFoundError:
        return []


def judge(returncode: int, entries: list[dict[str, Any]], output: str) -> Verdict:
    """Caught only when the property's own assertion failed, and nothing else did."""
    failed = [e for e in entries if e["errors"]]
    ran = [e for e in entries if e["when"] == "call"]
    if returncode not in (0, 1) or (returncode == 1 and not failed):
        tail = [line for line in output.splitlines() if line.strip()][-6:]
        return Verdict("HARNESS ERROR", [f"pytest exited {returncode}", *tail])
    if not failed:
        if not ran:
            return Verdict("HARNESS ERROR", ["the property did not run (no test collected)"])
        return Verdict("SURVIVED", [f"{len(ran)} test(s) passed"])
    first = failed[0]
    errors = first["errors"]
    if first["when"] != "call" or not all(e["assertion"] for e in errors):
        lines = [f"{first['when']} of {first['test']} raised, not an assertion:"]
        lines += [f"{e['type']}: {' '.join(e['message'])[:300]}" for e in errors]
        return Verdict("HARNESS ERROR", lines)
    return Verdict("caught", counterexample(errors[0], first.get("notes", [])))


def counterexample(error: dict[str, Any], notes: list[str], limit: int = 18) -> list[str]:
    """The failed assertion and the shrunk example hypothesis printed (its notes)."""
    message = " ".join(line.strip() for line in error["message"])[:300]
    shown = [f"{error['type']}: {message}" if message else error["type"]]
    example = error["notes"] or notes
    if not example:
        return [*shown, "(no example printed)"]
    body = [line if len(line) <= 300 else line[:300] + " ..." for line in example]
    return shown + body[:limit] + (["..."] if len(body) > limit else [])


def run(name: str, mutant: Mutant) -> Verdict:
    if not mutant.target.startswith(PROPERTIES):
        return Verdict("HARNESS ERROR", [f"{mutant.target} is not a property test"])
    with tempfile.TemporaryDirectory() as directory:
        report = os.path.join(directory, "report.jsonl")
        env = {**os.environ, VARIABLE: name, REPORT: report, "APP_ENV": "test"}
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                mutant.target,
                "-x",
                "-q",
                "-p",
                "no:cacheprovider",
                "-p",
                "tests.property.mutant_report",
                "--hypothesis-seed=0",
            ],
            capture_output=True,
            text=True,
            env=env,
        )
        return judge(result.returncode, _entries(report), result.stdout + result.stderr)


def main(names: Sequence[str]) -> int:
    unknown = [n for n in names if n not in MUTANTS]
    if unknown:
        print(f"unknown mutant(s): {', '.join(unknown)}: use one of {', '.join(MUTANTS)}")
        return 2
    counts: dict[str, int] = {"caught": 0, "SURVIVED": 0, "HARNESS ERROR": 0}
    for name in names or list(MUTANTS):
        mutant = MUTANTS[name]
        verdict = run(name, mutant)
        counts[verdict.outcome] += 1
        print(f"{verdict.outcome:<13} {name}: {mutant.bug}", flush=True)
        print(f"              by {mutant.target}")
        print("\n".join(f"              | {line}" for line in verdict.lines), flush=True)
    print(
        f"{counts['caught']} caught, {counts['SURVIVED']} survived, "
        f"{counts['HARNESS ERROR']} harness errors"
    )
    return 1 if counts["SURVIVED"] or counts["HARNESS ERROR"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
