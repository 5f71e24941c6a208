"""Automatic rollback (apply stage): a recreated service that never became ready goes back.

When the health gate (EngineRunner.settle) raises NotReady for services this apply
recreated, each one whose running container was made from the journal's last good
configuration (its config-hash label equals the journal's hash, checked against the
plan before anything is recreated) is put back as it was: `compose up --no-deps
--force-recreate SERVICE` with the journal's resolved model as the only compose file
and its APP_ENV, the same project name (so the same named volumes: data is never
touched), then the health gate again, waiting at least its default 120 s (that
configuration was ready before; a short --wait-timeout is meant for the new one).
The others say "cannot roll back SERVICE: previous configuration unknown" and fail
as before; `--no-rollback` keeps the failed state. A `rolling back` record is
written before the rollback starts and replaced after it (reconciler/store/journal.py), so
a run killed meanwhile is finished by the next apply before it plans (`resume`).
The journal is rewritten by every apply that converged with every container ready.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from reconciler.execute.outcome import ApplyResult, Outcome, OutcomeStatus
from reconciler.execute.retry import Policy, retried
from reconciler.execute.runner import EngineRunner, NotReady
from reconciler.execute.stages import Stage
from reconciler.execute.timeouts import WAIT_TIMEOUT
from reconciler.planner.plan import Action, ActionKind, Plan
from reconciler.planner.snapshot import Snapshot
from reconciler.reads.backend import EngineFactory
from reconciler.render import plans
from reconciler.store import journal
from reconciler.store.journal import (
    ROLLBACK_FAILED,
    ROLLED_BACK,
    ROLLING_BACK,
    JournalUnusable,
    Saved,
)
from state.engine import ContainerStatus, Engine, Recreate
from state.errors import ConfigError, ReconcilerError
from state.model import content
from state.model.desired import DesiredState
from state.model.observed import ObservedContainer, observe
from state.resolve.appenv import VARIABLE
from state.resolve.project import ComposeProject

Say = Callable[[str], None]
MODEL_FILE = "model.json"


@dataclass
class Watched:
    """The apply's runner, remembering which services the health gate found not ready."""

    runner: EngineRunner
    not_ready: tuple[str, ...] = ()

    def perform(self, kind: ActionKind, actions: Sequence[Action]) -> None:
        self.runner.perform(kind, actions)

    def stage(self, wave: Sequence[Action]) -> Stage | None:
        return self.runner.stage(wave)

    def prepare(self, stage: Sequence[Action], later: Sequence[Sequence[Action]]) -> None:
        self.runner.prepare(stage, later)

    def settle(self, actions: Sequence[Action]) -> None:
        try:
            self.runner.settle(actions)
        except NotReady as exc:
            self.not_ready = exc.services
            raise


def previous_project(
    saved: Saved, directory: Path, compose_dir: Path | None = None
) -> ComposeProject:
    """A ComposeProject whose only compose file is the saved model (0600, in `directory`),
    handed to Compose with the project's own project directory (`compose_dir`), which
    Compose records on the containers it makes: they stay this checkout's."""
    journal.private(directory)
    journal.write_record(directory / "compose" / MODEL_FILE, json.dumps(saved.model))
    name = saved.desired.app_env.name
    return ComposeProject(
        directory=directory,
        env_file=directory / "none.env",
        name=saved.desired.project,
        table=None,
        app_env=saved.desired.app_env,
        variables={VARIABLE: name} if saved.desired.app_env.has_table else {},
        compose_files=(directory / "compose" / MODEL_FILE,),
        default_profiles=saved.desired.profiles,
        compose_directory=compose_dir,
    )


@dataclass
class Rollback:
    """One apply's rollback: what may go back (before), putting it back (after)."""

    project: str
    engine: Engine  # the apply's own: what failed, and why
    engines: EngineFactory | None  # the backend's, for the saved model; None: no rollback
    enabled: bool
    wait_timeout: float
    retrying: Policy
    say: Say
    compose_dir: Path | None = None  # Compose's project directory of the apply
    possible: frozenset[str] = field(default_factory=frozenset)
    blocked: dict[str, str] = field(default_factory=dict)  # service -> why it cannot go back
    failure: str = ""

    @cached_property
    def saved(self) -> Saved | None:
        """The journal's last good configuration, read when first needed: a no-op apply
        never reads it, nor loads the validator a stored record is read back with."""
        return journal.load(self.project)

    def unfinished(self) -> dict[str, str]:
        """The services a killed run left rolling back, and why they were."""
        records = journal.records(self.project)
        return {s: r.reason for s, r in records.items() if r.state == ROLLING_BACK}

    def resume(self) -> None:
        """Finish a rollback that a killed run left half done, before anything is planned."""
        left = self.unfinished()
        if not left or not self.enabled:  # --no-rollback: left as it is, status says so
            return
        self.say(f"A killed run left a rollback unfinished: rolling back {', '.join(sorted(left))}")
        self._put_back(left)

    def prepare(self, plan: Plan, directory: Path) -> None:
        """Before recreating: which services the journal can put back as they are now.

        The journal keeps the configuration, not the image or the content files it
        named: a service whose image tag now names another build, or whose content file
        (relative to `directory`) changed since, cannot be put back as it was."""
        saved = self.saved.desired.services if self.saved and self.engines else {}
        recreated = {a.service for a in plan.actions if a.kind is ActionKind.RECREATE}
        candidates = {
            s
            for s in recreated
            if s in saved
            and all(
                a.old_hash == saved[s].config_hash
                for a in plan.actions
                if a.service == s and a.kind is ActionKind.RECREATE
            )
        }
        images = {saved[s].image for s in candidates if saved[s].image_id is not None}
        now = self.engine.image_ids(sorted(images)) if images else {}
        for s in sorted(candidates):
            was = saved[s]
            if was.image_id is not None and now.get(was.image) != was.image_id:
                self.blocked[s] = f"its image {was.image} now names another build"
            for shown, digest in sorted(was.content.items()):
                try:
                    current = content.file_digest(directory / shown, shown, s)
                except ConfigError:
                    current = ""
                if current != digest:
                    self.blocked[s] = f"{shown} changed since its last good apply"
        self.possible = frozenset(candidates - set(self.blocked))

    def after(self, result: ApplyResult, watched: Watched, plan: Plan) -> ApplyResult:
        """Roll back the recreated services the health gate failed; the result to report."""
        recreated = {a.service for a in plan.actions if a.kind is ActionKind.RECREATE}
        failed = [s for s in watched.not_ready if s in recreated]
        if result.ok or not failed:
            return result
        desired = watched.runner.desired
        if desired is not None:
            failed = with_dependents(failed, result.outcomes, desired)
        if not self.enabled:
            self.say(f"Not rolled back (--no-rollback): {', '.join(failed)} left as it failed")
            return result
        for service in failed:
            if service not in self.possible:
                why = self.blocked.get(service, "previous configuration unknown")
                self.say(f"cannot roll back {service}: {why}")
        back = [s for s in failed if s in self.possible]
        if not back:
            return result
        self.say(f"Not ready: {result.error}")
        reasons = {
            s: self._reason(s) if s in watched.not_ready else _along(s, back, desired) for s in back
        }
        started = time.monotonic()
        if not self._put_back(reasons):
            return ApplyResult(result.outcomes, f"{result.error}; {self.failure}")
        seconds = time.monotonic() - started
        outcomes = []
        for outcome in result.outcomes:
            action = outcome.action
            if action.kind is ActionKind.RECREATE and action.service in reasons:
                outcome = Outcome(
                    action,
                    OutcomeStatus.ROLLED_BACK,
                    outcome.seconds + seconds,
                    reasons[action.service],
                )
                self.say(plans.outcome_line(outcome))
            outcomes.append(outcome)
        error = "; ".join(f"rolled back: {s} ({reasons[s]})" for s in back)
        if len(back) < len(failed):
            error += f"; apply failed: {result.error}"
        return ApplyResult(tuple(outcomes), error)

    def _put_back(self, reasons: Mapping[str, str]) -> bool:
        """Recreate `reasons`' services from the journal and wait for them; False on failure."""
        services = sorted(reasons)
        if self.saved is None or self.engines is None:
            self.failure = f"cannot roll back {', '.join(services)}: previous configuration unknown"
            self.say(self.failure)
            self._note(reasons, ROLLBACK_FAILED)
            return False
        started = time.monotonic()
        app_env = self.saved.desired.app_env.name
        self.say(
            f"Rolling back {', '.join(services)} to the configuration applied at "
            f"{self.saved.at} (APP_ENV={app_env})"
        )
        try:
            journal.note(self.project, reasons, ROLLING_BACK)
            previous = previous_project(
                self.saved, journal.project_directory(self.project) / "previous", self.compose_dir
            )
            engine = self.engines(previous)
            retried(lambda: engine.up(services, recreate=Recreate.ALWAYS), self.retrying)
            # What was ready before gets at least the default wait, whatever --wait-timeout.
            patience = max(self.wait_timeout, WAIT_TIMEOUT)
            gate = EngineRunner(engine, self.saved.desired, wait_timeout=patience)
            gate.settle([_recreate(s) for s in services])
        except (ReconcilerError, OSError) as exc:
            self.failure = f"rollback of {', '.join(services)} failed too: {_first_line(exc)}"
            self.say(self.failure)
            self._note(reasons, ROLLBACK_FAILED)
            return False
        self._note(reasons, ROLLED_BACK)
        self.say(
            f"Rolled back in {time.monotonic() - started:.1f} s: {', '.join(services)} "
            f"ready again with its previous configuration (APP_ENV={app_env})"
        )
        return True

    def _note(self, reasons: Mapping[str, str], state: str) -> None:
        try:
            journal.note(self.project, reasons, state)
        except (JournalUnusable, OSError) as exc:
            self.say(f"cannot record the rollback: {exc}")

    def _reason(self, service: str) -> str:
        containers = observe(self.engine, self.project).of(service)
        state = "no container"
        if containers:  # the replica that failed, not merely the first one
            bad = (ContainerStatus.EXITED, ContainerStatus.DEAD)
            first = next((c for c in containers if c.status in bad), containers[0])
            first = next((c for c in containers if c.health == "unhealthy"), first)
            state = first.health or first.status.value
            if first.status is ContainerStatus.EXITED:
                return f"exited with code {first.exit_code}"
            if first.status is ContainerStatus.DEAD:
                return "dead"
        text = f"{state} after {self.wait_timeout:g} s of --wait-timeout"
        if state == "unhealthy":  # the gate fails it at once, not after the timeout
            text = state
        output = (first.health_output or "").strip() if containers else ""
        if output:
            text += f"; last health check: {output.splitlines()[-1][:120]}"
        return text


def with_dependents(
    failed: Sequence[str], outcomes: Sequence[Outcome], desired: DesiredState
) -> list[str]:
    """`failed`, and the services this apply recreated that depend on one of them, at any
    depth: brought up in one stage with it (reconciler/execute/stages.py), they would run the
    new configuration beside the old one put back (two APP_ENVs in one stack)."""
    done = {
        o.action.service
        for o in outcomes
        if o.action.kind is ActionKind.RECREATE and o.status is OutcomeStatus.DONE
    }
    back = list(failed)
    grew = True
    while grew:
        grew = False
        for name in sorted(done - set(back)):
            spec = desired.services.get(name)
            if spec and any(d.service in back for d in spec.depends_on):
                back.append(name)
                grew = True
    return back


def _along(service: str, back: Sequence[str], desired: DesiredState | None) -> str:
    spec = desired.services.get(service) if desired else None
    names = [d.service for d in spec.depends_on if d.service in back] if spec else []
    return f"with {', '.join(names) or 'what it depends on'}, which it depends on"


def succeeded(snap: Snapshot, model: Mapping[str, Any] | None, say: Say) -> None:
    """An apply converged: when every container is ready, its configuration is the journal's
    new last good one, and no rollback is current any more."""
    desired = snap.desired
    wanted = {name: s.has_healthcheck for name, s in desired.services.items()}
    if model is None or not all(
        _ready(c, wanted[c.service]) for c in snap.observed.containers if c.service in wanted
    ):
        return
    try:
        journal.save(desired.project, desired, model)
        journal.clear(desired.project)
    except (JournalUnusable, OSError) as exc:
        say(f"cannot keep the journal, so a failed apply cannot be rolled back: {exc}")


def _ready(container: ObservedContainer, wants_health: bool) -> bool:
    """The health gate's own test (reconciler/execute/runner.py), on the final observation."""
    if container.status is ContainerStatus.EXITED:
        return not wants_health and container.exit_code == 0
    if container.status is not ContainerStatus.RUNNING:
        return False
    return container.health == "healthy" if wants_health else True


def _recreate(service: str) -> Action:
    return Action(kind=ActionKind.RECREATE, service=service, number=1, reasons=("rollback",))


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
