"""A stateful test: a world that keeps changing under the reconciler.

Rules change the desired state (switch APP_ENV, edit a service, add or remove one)
and reconcile at once; other rules disturb the world out of band (stop, kill, pause,
remove a container, start a stray, tamper with a label) without reconciling. After
every disturbance the plan must name exactly the disturbed services; after every
reconcile the oracle (tests/property/oracle.py) must call the world converged.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from reconciler.planner.plan import ActionKind
from state.engine import CONFIG_HASH_LABEL, ONEOFF_LABEL, PROJECT_LABEL, ContainerStatus
from state.model.desired import DesiredService, DesiredState
from state.resolve.appenv import ResolvedAppEnv, Source
from tests.memory_engine import MemContainer, MemoryEngine
from tests.property.driver import current_plan, reconcile, restart, stop
from tests.property.oracle import look, problems
from tests.property.strategies import ENVS, POOL, PROJECT, desired_states


class ReconcilerMachine(RuleBasedStateMachine):
    engine: MemoryEngine
    desired: DesiredState

    @initialize(desired=desired_states(allow_restart=False))
    def start(self, desired: DesiredState) -> None:
        self.desired = desired
        self.engine = MemoryEngine(desired, probed_health=True)
        self.disturbed: set[str] = set()
        self.reconcile()

    # -- the desired state changes, then `just up` ----------------------------------
    @rule(env=st.sampled_from(ENVS))
    def switch_app_env(self, env: str) -> None:
        services = {
            name: replace(s, app_env=env, config_hash=f"{name}-{env}-x")
            for name, s in self.desired.services.items()
        }
        self.desired = replace(
            self.desired,
            app_env=ResolvedAppEnv(name=env, source=Source.COMMAND_LINE),
            services=services,
        )
        self.reconcile()

    @precondition(lambda self: bool(self.desired.services))
    @rule(data=st.data())
    def edit_service(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(self.desired.services)))
        spec = self.desired.services[name]
        edited = replace(spec, config_hash=spec.config_hash + "'")
        self.desired = replace(self.desired, services={**self.desired.services, name: edited})
        self.reconcile()

    @rule(name=st.sampled_from(POOL), replicas=st.integers(0, 2))
    def add_service(self, name: str, replicas: int) -> None:
        if name in self.desired.services:
            return
        env = self.desired.app_env.name
        new = DesiredService(
            name=name,
            image=f"{name}:local",
            image_id="sha256:img-a",
            config_hash=f"{name}-{env}-new",
            app_env=env,
            replicas=replicas,
        )
        self.desired = replace(
            self.desired,
            services={**self.desired.services, name: new},
            known_services=self.desired.known_services | {name},
        )
        self.reconcile()

    @precondition(lambda self: bool(self.desired.services))
    @rule(data=st.data())
    def remove_service(self, data: st.DataObject) -> None:
        needed = {d.service for s in self.desired.services.values() for d in s.depends_on}
        removable = sorted(set(self.desired.services) - needed)
        if not removable:
            return
        name = data.draw(st.sampled_from(removable))
        self.desired = replace(
            self.desired, services={k: v for k, v in self.desired.services.items() if k != name}
        )
        self.reconcile()

    @rule()
    def reconcile(self) -> None:
        before = look(self.engine)
        result = reconcile(self.engine, self.desired)
        assert result.ok, result.error
        assert problems(self.desired, before, look(self.engine)) == []  # the oracle's word
        self.disturbed = set()

    @rule()
    def restart_everything(self) -> None:
        before = look(self.engine)
        result = restart(self.engine, self.desired)
        assert result.ok, result.error
        assert problems(self.desired, before, look(self.engine)) == []
        self.disturbed = set()

    # -- `reconcile stop`: every running container stops, and is then pending ------
    @rule()
    def stop_everything(self) -> None:
        result = stop(self.engine, self.desired)
        assert result.ok, result.error
        assert not [c for c in self.ours() if c.status is ContainerStatus.RUNNING]
        self.disturbed_now(*{a.service for a in result.plan.actions})

    # -- out-of-band disturbances ---------------------------------------------------
    def ours(self) -> list[MemContainer]:
        return sorted(
            (
                c
                for c in self.engine.containers_by_id.values()
                if c.labels.get(PROJECT_LABEL) == PROJECT and c.labels.get(ONEOFF_LABEL) != "True"
            ),
            key=lambda c: c.id,
        )

    def disturbed_now(self, *services: str) -> None:
        # A wanted service stays disturbed until reconciled; an unwanted one (a stray)
        # only while it still has a container: removing it by hand undoes the stray.
        self.disturbed.update(services)
        present = {c.service for c in self.ours()}
        self.disturbed = {s for s in self.disturbed if s in self.desired.services or s in present}
        named = {
            a.service
            for a in current_plan(self.engine, self.desired).actions
            if a.kind is not ActionKind.RESTART
        }
        assert named == self.disturbed

    @rule(
        data=st.data(),
        status=st.sampled_from(
            [ContainerStatus.EXITED, ContainerStatus.DEAD, ContainerStatus.PAUSED]
        ),
    )
    def stop_kill_or_pause(self, data: st.DataObject, status: ContainerStatus) -> None:
        candidates = [c for c in self.ours() if c.status is ContainerStatus.RUNNING]
        if not candidates:
            return
        victim = data.draw(st.sampled_from(candidates))
        self.engine.disturb_status(victim.id, status)
        self.disturbed_now(victim.service)

    @rule(data=st.data())
    def remove_container(self, data: st.DataObject) -> None:
        candidates = self.ours()
        if not candidates:
            return
        victim = data.draw(st.sampled_from(candidates))
        self.engine.disturb_remove(victim.id)
        self.disturbed_now(victim.service)

    @rule(data=st.data())
    def tamper_with_label(self, data: st.DataObject) -> None:
        candidates = self.ours()
        if not candidates:
            return
        victim = data.draw(st.sampled_from(candidates))
        self.engine.disturb_label(victim.id, CONFIG_HASH_LABEL, "tampered")
        self.disturbed_now(victim.service)

    @rule(name=st.sampled_from(["stray", "leftover-tool"]))
    def start_a_stray(self, name: str) -> None:
        self.engine.add(name, project=PROJECT)
        self.disturbed_now(name)

    @rule()
    def a_foreign_container_appears(self) -> None:
        self.engine.add("db", project="someone-else")
        self.engine.add("db", 1, oneoff=True)
        assert {
            a.service
            for a in current_plan(self.engine, self.desired).actions
            if a.kind is not ActionKind.RESTART
        } == self.disturbed


TestReconcilerMachine = ReconcilerMachine.TestCase
