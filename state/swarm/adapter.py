"""The Swarm engine: the engine port on a Docker Swarm manager (every stage, Swarm backend).

What should run is still Compose's answer for APP_ENV (`docker compose config` on the
local engine, through DockerEngine), rendered into a stack (state/swarm/render.py);
what runs is read from the manager in four calls (service ls, service inspect,
service ps, node ls) and mapped onto the planner's records (state/swarm/records.py). Writes:
- up (create/recreate): `docker stack deploy` of a stack file holding exactly those
  services, without --prune, so nothing else is touched; their images are pushed to
  the swarm's registry first (an unchanged image costs one manifest check);
- stop: scale to 0, remembering the count in a label; start: scale back to it;
- remove: `docker service rm`, or a scale-down when only extra replicas go;
- restart: `docker service update --force`.
Every call goes to the manager (`-H`, SWARM_MANAGER_HOST), bounded in time; a failure
names the call, Docker's reason and, when the manager is away, `just swarm-up`.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from state import secrets
from state.docker.adapter import DockerEngine
from state.docker.timeouts import Timeouts
from state.engine import Backend, ContainerRecord, EngineIdentity, Recreate
from state.errors import PermanentError
from state.resolve.project import ComposeProject
from state.swarm.manager import Manager
from state.swarm.records import (
    NAMESPACE_LABEL,
    ServiceStatus,
    on_nodes_down,
    parse_tasks,
    records,
    service_env,
    service_of,
    spec_replicas,
    statuses,
    stopped_count,
)
from state.swarm.render import STOPPED_LABEL, config_hash, registry_image, render_stack

log = logging.getLogger(__name__)
REGISTRY_VARIABLE = "SWARM_REGISTRY"
DEFAULT_REGISTRY = "127.0.0.1:5077"


class SwarmEngine:
    """The Engine port (ComposeSource and ContainerEngine) on a swarm's manager."""

    backend = Backend.SWARM

    def __init__(self, project: ComposeProject | None = None) -> None:
        self._project = project
        self.local = DockerEngine(project)  # compose config and image ids: the local engine
        self.timeouts = Timeouts.from_environment(os.environ)
        self.manager = Manager(self.timeouts)
        self.registry = os.environ.get(REGISTRY_VARIABLE) or DEFAULT_REGISTRY
        self.deployed_at: dict[str, float] = {}  # full service name -> when we deployed it
        self.templates_before: dict[str, Any] = {}  # ... and its task template before that
        self._model: dict[str, Any] | None = None

    @property
    def project(self) -> ComposeProject:
        if self._project is None:
            raise AssertionError("a Compose call needs SwarmEngine(project)")
        return self._project

    def use_content_override(self, path: Path) -> None:
        """The content stage's override: Compose's answer (from the local engine) has it."""
        self.local.use_content_override(path)
        self._project = self.local.project
        self._model = None

    def _docker(self, *args: str, what: str, bound: float | None = None) -> str:
        return self.manager.run(*args, what=what, bound=bound)

    @property
    def host(self) -> str:
        return self.manager.host

    @property
    def calls(self) -> int:
        return self.manager.calls

    # -- ComposeSource: Compose's answer, as the stack it becomes -------------------
    def compose_model(self) -> dict[str, Any]:
        """Compose's model; with an environment table, APP_ENV in every service's
        environment (a project without one runs exactly what Compose would)."""
        if self._model is None:
            model = self.local.compose_model()
            app_env = self.project.app_env.name
            services = (model.get("services") or {}) if self.project.table is not None else {}
            for raw in services.values():
                raw["environment"] = {"APP_ENV": app_env, **(raw.get("environment") or {})}
            self._model = model
        return self._model

    def config_hashes(self) -> dict[str, str]:
        project, services = self.project.name, self.compose_model().get("services") or {}
        return {
            name: config_hash(name, raw, project, self.registry) for name, raw in services.items()
        }

    def service_names_in_any_profile(self) -> frozenset[str]:
        return self.local.service_names_in_any_profile()

    def image_ids(self, references: Sequence[str]) -> dict[str, str]:
        return self.local.image_ids(references)

    def declared_profiles(self) -> frozenset[str]:
        return self.local.declared_profiles()

    # -- ContainerEngine: reads ---------------------------------------------------
    def service_ids(self, project: str) -> list[str]:
        """The ids of the project's services, in one call (also: does it run here?)."""
        return self._docker(
            "service", "ls", "-q", "--filter", f"label={NAMESPACE_LABEL}={project}",
            what="docker service ls",
        ).split()  # fmt: skip

    def has_project(self, project: str) -> bool:
        return bool(self.service_ids(project))

    def identity(self) -> EngineIdentity:
        """The manager's: the swarm a plan would deploy to."""
        out = self._docker("info", "--format", "{{.ID}}\t{{.Name}}", what="docker info")
        daemon_id, _, daemon_name = out.strip().partition("\t")
        return EngineIdentity(endpoint=self.host, daemon_id=daemon_id, daemon_name=daemon_name)

    def _read(self, project: str) -> tuple[list[dict[str, Any]], list[Any]]:
        ids = self.service_ids(project)
        if not ids:
            return [], []
        services = json.loads(
            self._docker("service", "inspect", *ids, what="docker service inspect")
        )
        listed = self._docker(
            "service", "ps", "--no-trunc", "--filter", "desired-state=running",
            "--format", "{{json .}}", *ids, what="docker service ps",
        )  # fmt: skip
        nodes = self._docker(
            "node", "ls", "--format", "{{.Hostname}} {{.Status}}", what="docker node ls"
        )
        pairs = [line.split(" ", 1) for line in nodes.splitlines() if " " in line]
        down = {host: status for host, status in pairs if status != "Ready"}
        return services, on_nodes_down(parse_tasks(listed.splitlines()), down)

    def containers(self, project: str) -> list[ContainerRecord]:
        services, tasks = self._read(project)
        return records(project, services, tasks)

    def service_statuses(self, project: str) -> dict[str, ServiceStatus]:
        services, tasks = self._read(project)
        return statuses(services, tasks, self.templates_before)

    def last_failure(self, service: str) -> str:
        """The newest failed or rejected task of the service, with Docker's error ("" if none)."""
        listed = self._docker(
            "service", "ps", "--no-trunc", "--format", "{{json .}}", service,
            what="docker service ps",
        )  # fmt: skip
        failed = [t for t in parse_tasks(listed.splitlines()) if t.state in ("failed", "rejected")]
        if not failed:
            return ""
        task = failed[0]  # newest first
        return f"task {task.service}.{task.slot} {task.state}: {task.error or 'no error given'}"

    def _existing(self, names: Sequence[str]) -> dict[str, dict[str, Any]]:
        """`docker service inspect` of those of the named services that exist."""
        listed = self._docker("service", "ls", "--format", "{{.Name}}", what="docker service ls")
        present = sorted(set(listed.split()) & set(names))
        return self._inspect(present) if present else {}

    def _inspect(self, names: Sequence[str]) -> dict[str, dict[str, Any]]:
        found = json.loads(
            self._docker("service", "inspect", *sorted(set(names)), what="docker service inspect")
        )
        return {service["Spec"]["Name"]: service for service in found}

    # -- ContainerEngine: writes --------------------------------------------------
    def up(self, services: Sequence[str], *, recreate: Recreate) -> None:
        """Deploy exactly these services (`recreate` needs nothing more: a recreate
        here is a changed spec, or a stopped service scaled up again)."""
        project = self.project
        model = self.compose_model()
        wanted = [s for s in services if s in (model.get("services") or {})]
        images = sorted({model["services"][s]["image"] for s in wanted})
        full = {f"{project.name}_{s}" for s in wanted}
        before = self._existing(sorted(full))  # the gate waits for the updates that follow
        self.templates_before.update({n: s["Spec"].get("TaskTemplate") for n, s in before.items()})
        self._push(images)
        stack = render_stack(
            model,
            project=project.name,
            registry=self.registry,
            image_ids=self.local.image_ids(images),
            services=wanted,
        )
        with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="stack-") as file:
            json.dump(stack, file)
            file.flush()
            now = time.time()
            self._docker(
                "stack", "deploy", "--detach=true", "--resolve-image", "always",
                "-c", file.name, project.name,
                what=f"docker stack deploy {' '.join(wanted)}",
                bound=self.timeouts.write(len(wanted)),
            )  # fmt: skip
        self.deployed_at.update({f"{project.name}_{s}": now for s in wanted})

    def _push(self, images: Sequence[str]) -> None:
        """Push the local images to the swarm's registry (tag, push, untag)."""
        for image in images:
            target = registry_image(image, self.registry)
            if target == image:
                continue  # a registry's own image: the nodes pull it from there
            try:
                self.local.push_image(image, target)
            except PermanentError as exc:
                raise PermanentError(
                    f"{exc}; is the swarm's registry up? (`just swarm-up`)"
                ) from None

    def _update(self, service: str, *flags: str) -> None:
        self._docker(
            "service", "update", "--detach", *flags, service,
            what=f"docker service update {' '.join(flags)} {service}",
            bound=self.timeouts.write(1),
        )  # fmt: skip

    def start(self, container_ids: Sequence[str]) -> None:
        """Scale each stopped service back to the count `stop` remembered."""
        for name, service in self._inspect([service_of(i) for i in container_ids]).items():
            count = (service["Spec"].get("Labels") or {}).get(STOPPED_LABEL)
            if spec_replicas(service) == 0 and count:
                self._update(name, "--replicas", count, "--label-rm", STOPPED_LABEL)

    def unpause(self, container_ids: Sequence[str]) -> None:
        self.start(container_ids)

    def restart(self, container_ids: Sequence[str]) -> None:
        for name in sorted({service_of(i) for i in container_ids}):
            self.deployed_at[name] = time.time()  # the gate waits for this update
            self._update(name, "--force")

    def stop(self, container_ids: Sequence[str]) -> None:
        """Scale each service to 0, keeping it; its count goes into a label for start."""
        for name, service in self._inspect([service_of(i) for i in container_ids]).items():
            count = spec_replicas(service)
            if count:
                self._update(name, "--replicas", "0", "--label-add", f"{STOPPED_LABEL}={count}")

    def remove(self, container_ids: Sequence[str]) -> None:
        """Scale down a service that keeps some of its slots (a stopped one keeps its
        count in STOPPED_LABEL: that count goes down instead); remove a service all of
        whose slots go. A global service has one slot per node: removing some of them
        means removing it (Swarm puts it on every node)."""
        going: dict[str, int] = {}
        for record_id in container_ids:
            going[service_of(record_id)] = going.get(service_of(record_id), 0) + 1
        current = self._existing(list(going))
        whole = []
        for name, count in sorted(going.items()):
            if name not in current:
                continue  # already gone
            replicas = spec_replicas(current[name])
            stopped = stopped_count(current[name])
            if replicas == 0 and stopped > count:
                self._update(name, "--label-add", f"{STOPPED_LABEL}={stopped - count}")
            elif replicas is not None and replicas > count:
                self._docker(
                    "service", "scale", "--detach", f"{name}={replicas - count}",
                    what=f"docker service scale {name}", bound=self.timeouts.write(1),
                )  # fmt: skip
            else:
                whole.append(name)
        if whole:
            self._docker(
                "service", "rm", *whole, what=f"docker service rm {' '.join(whole)}",
                bound=self.timeouts.write(len(whole)),
            )  # fmt: skip

    # -- logs, networks, volumes --------------------------------------------------
    def log_tail(self, container_id: str, lines: int) -> str:
        try:
            return self._docker(
                "service", "logs", "--tail", str(lines), "--no-task-ids", service_of(container_id),
                what="docker service logs",
            )  # fmt: skip
        except PermanentError:
            return ""

    def stream_logs(
        self, project: str, services: Sequence[str], *, follow: bool, tail: str | None
    ) -> int:
        """Each service's `docker service logs`, through this process's stdout (which the
        CLI masks): the tasks' environments are learnt first, their secrets with them."""
        for service in self._read(project)[0]:
            secrets.remember(service_env(service))
        names = [f"{project}_{s}" for s in services] or self.service_ids(project)
        return self.manager.stream_logs(names, follow=follow, tail=tail)

    def networks(self, project: str) -> list[str]:
        out = self._docker(
            "network", "ls", "--filter", f"label={NAMESPACE_LABEL}={project}",
            "--format", "{{.Name}}", what="docker network ls",
        )  # fmt: skip
        return sorted(out.split())

    def volumes(self, project: str) -> list[str]:
        """The project's volumes on the manager (where services with volumes are placed)."""
        out = self._docker(
            "volume", "ls", "--filter", f"label={NAMESPACE_LABEL}={project}",
            "--format", "{{.Name}}", what="docker volume ls",
        )  # fmt: skip
        return sorted(out.split())

    def remove_networks(self, names: Sequence[str]) -> None:
        """Networks go once the removed services' tasks have (Swarm ends them async)."""
        self._remove_when_free("network", names)

    def remove_volumes(self, names: Sequence[str]) -> None:
        """Volumes likewise: in use until Swarm has removed the tasks' containers."""
        self._remove_when_free("volume", names)

    def _remove_when_free(self, kind: str, names: Sequence[str]) -> None:
        deadline = time.monotonic() + self.timeouts.read
        while True:
            try:
                self._docker(kind, "rm", *names, what=f"docker {kind} rm")
                return
            except PermanentError:
                listed = self._docker(kind, "ls", "--format", "{{.Name}}", what=f"docker {kind} ls")
                left = sorted(set(listed.split()) & set(names))
                if not left:
                    return
                if time.monotonic() > deadline:
                    raise
                names = left
                time.sleep(0.5)
