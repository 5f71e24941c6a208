"""The real engine: the Docker CLI and Compose v2 (the engine port's Docker adapter).

DockerEngine is the Engine port (state/engine.py) on the local Docker engine: the
Compose side (state/docker/compose.py: command lines by python-on-whales, `config`,
`up`, `create`) plus the container side here: the project's containers read in two
calls (list, one batched inspect; parsed by state/docker/inspect.py), writes by
container id, networks and volumes by the project's label, logs (state/docker/logs.py)
and the event stream (state/docker/events.py). Every call goes through the adapter's
Commands (state/docker/run.py): logged, counted, bounded in time, failures
classified. Without a ComposeProject (stop, down, logs) only the container side works.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from state.docker.api import filters
from state.docker.args import batches, with_tag
from state.docker.compose import ComposeSide
from state.docker.endpoint import context_name, engine_endpoint
from state.docker.errors import first_line
from state.docker.inspect import parse_inspect, records_of
from state.engine import ONEOFF_LABEL, PROJECT_LABEL, Backend, ContainerRecord, EngineIdentity
from state.errors import ContainerGone, EngineTimeout, PermanentError
from state.process.concurrent import together

if TYPE_CHECKING:  # the watch's events and `logs` load their modules when they run
    from state.docker.events import ContainerEvent, DockerEvents, StreamLost

log = logging.getLogger(__name__)


class DockerEngine(ComposeSide):
    """The Engine port (ComposeSource and ContainerEngine) on the real Docker engine."""

    backend = Backend.COMPOSE
    concurrent_reads = True  # its reads wait on processes: run them at once

    # -- ContainerEngine -----------------------------------------------------------
    def containers(self, project: str) -> list[ContainerRecord]:
        if self.api is None:
            return self.containers_by_cli(project)
        listed = self._listed(f"{PROJECT_LABEL}={project}")
        if not listed:
            return []
        # One request per container, as `docker container inspect ID...` makes; one
        # removed since the list (Compose recreating it meanwhile) is simply not there.
        paths = [f"/containers/{item['Id']}/json" for item in listed]
        return records_of(self.api_get(*paths, what="docker container inspect", gone_ok=True))

    def _listed(self, *labels: str, ids: Sequence[str] = ()) -> list[dict[str, Any]]:
        """`GET /containers/json?all=1` with label (and id) filters: the summaries."""
        wanted = {"label": list(labels)} if labels else {}
        if ids:
            wanted["id"] = list(ids)
        path = f"/containers/json?all=1&filters={filters(**wanted)}"
        (listed,) = self.api_get(path, what="docker container ls")
        return list(listed)

    def containers_by_cli(self, project: str) -> list[ContainerRecord]:
        """The CLI path of containers(): `container ls`, then one batched inspect."""
        ids = self._docker(
            "container",
            "ls",
            "--all",
            "--quiet",
            "--no-trunc",
            "--filter",
            f"label={PROJECT_LABEL}={project}",
            what="docker container ls",
        ).split()
        if not ids:
            return []
        return parse_inspect(
            self._docker("container", "inspect", *ids, what="docker container inspect")
        )

    def has_project(self, project: str) -> bool:
        if self.api is not None:
            listed = self._listed(f"{PROJECT_LABEL}={project}")
            return any((c.get("Labels") or {}).get(ONEOFF_LABEL) != "True" for c in listed)
        out = self._docker(
            *("container", "ls", "--all", "--filter", f"label={PROJECT_LABEL}={project}"),
            *("--format", f'{{{{.Label "{ONEOFF_LABEL}"}}}}'),
            what="docker container ls",
        )
        return any(line.strip() != "True" for line in out.splitlines())

    def identity(self) -> EngineIdentity:
        if self.api is not None:
            (info,) = self.api_get("/info", what="docker info")
            daemon_id, daemon_name = str(info.get("ID", "")), str(info.get("Name", ""))
        else:
            out = self._docker("info", "--format", "{{.ID}}\t{{.Name}}", what="docker info")
            daemon_id, _, daemon_name = out.strip().partition("\t")
        return EngineIdentity(
            endpoint=engine_endpoint(),
            context=context_name(),
            daemon_id=daemon_id,
            daemon_name=daemon_name,
        )

    # -- ContainerEngine: writes --------------------------------------------------
    def start(self, container_ids: Sequence[str]) -> None:
        # `docker start ID...` starts one after another: a few batches at once instead.
        together(*(lambda b=b: self._on_ids("start", b) for b in batches(container_ids)))

    def unpause(self, container_ids: Sequence[str]) -> None:
        self._on_ids("unpause", container_ids)

    def restart(self, container_ids: Sequence[str]) -> None:
        together(*(lambda b=b: self._on_ids("restart", b) for b in batches(container_ids)))

    def _on_ids(self, verb: str, container_ids: Sequence[str]) -> None:
        bound = self.timeouts.write(len(container_ids))
        self._docker("container", verb, *container_ids, what=f"docker {verb}", bound=bound)

    def stop(self, container_ids: Sequence[str]) -> None:
        # A container gone meanwhile is stopped enough; the others were stopped anyway
        # (`docker stop` goes on past a missing id), so only those still here are retried.
        try:
            self._stop(container_ids)
        except ContainerGone:
            self._stop(self._present(container_ids))

    def _stop(self, container_ids: Sequence[str]) -> None:
        if container_ids:
            bound = self.timeouts.write(len(container_ids))
            self._docker("container", "stop", *container_ids, what="docker stop", bound=bound)

    def remove(self, container_ids: Sequence[str]) -> None:
        # One at a time is not needed: `docker stop` and `rm` take many ids. A container
        # already gone (removed concurrently) is what we wanted, so it is not an error.
        present = self._present(container_ids)
        if not present:
            return
        try:
            self._remove_present(present)
        except ContainerGone:
            self._remove_present(self._present(present))

    def _remove_present(self, container_ids: Sequence[str]) -> None:
        if container_ids:
            self._stop(container_ids)
            bound = self.timeouts.write(len(container_ids))
            self._docker("container", "rm", *container_ids, what="docker rm", bound=bound)

    def log_tail(self, container_id: str, lines: int) -> str:
        command = [*self.command_lines().docker, "container", "logs", "--tail", str(lines)]
        command.append(container_id)
        try:
            done = self.commands.execute(command, what="docker logs")
        except EngineTimeout as exc:
            return f"(no logs: {exc})"
        if done.returncode != 0:
            return f"(no logs: {first_line(done.stderr or '')})"
        return "\n".join(part for part in (done.stdout, done.stderr) if part).strip()

    def _present(self, container_ids: Sequence[str]) -> list[str]:
        if not container_ids:
            return []
        if self.api is not None:
            found = {c["Id"] for c in self._listed(ids=container_ids)}
        else:
            by_id = (arg for cid in container_ids for arg in ("--filter", f"id={cid}"))
            out = self._docker(
                *("container", "ls", "--all", "--quiet", "--no-trunc", *by_id),
                what="docker container ls",
            )
            found = set(out.split())
        return [cid for cid in container_ids if cid in found]

    # -- networks and volumes, by the project's label ---------------------------------
    def networks(self, project: str) -> list[str]:
        return self._labelled("network", project)

    def volumes(self, project: str) -> list[str]:
        return self._labelled("volume", project)

    def remove_networks(self, names: Sequence[str]) -> None:
        if names:
            bound = self.timeouts.write(len(names))
            self._docker("network", "rm", *names, what="docker network rm", bound=bound)

    def remove_volumes(self, names: Sequence[str]) -> None:
        if names:
            bound = self.timeouts.write(len(names))
            self._docker("volume", "rm", *names, what="docker volume rm", bound=bound)

    def _labelled(self, kind: str, project: str) -> list[str]:
        """The names of the project's networks or volumes: over the socket when it is
        local (`down --plan` then runs no docker process), else `docker KIND ls`."""
        if self.api is not None:
            path = f"/{kind}s?filters={filters(label=[f'{PROJECT_LABEL}={project}'])}"
            (listed,) = self.api_get(path, what=f"docker {kind} ls")
            try:
                found = (listed.get("Volumes") or []) if kind == "volume" else listed
                return sorted(str(item["Name"]) for item in found)
            except (AttributeError, KeyError, TypeError):
                raise PermanentError(f"unexpected answer to `docker {kind} ls`") from None
        return self.labelled_by_cli(kind, project)

    def labelled_by_cli(self, kind: str, project: str) -> list[str]:
        """The CLI path of networks() and volumes()."""
        out = self._docker(
            kind,
            "ls",
            "--format",
            "{{.Name}}",
            "--filter",
            f"label={PROJECT_LABEL}={project}",
            what=f"docker {kind} ls",
        )
        return sorted(out.split())

    def stream_logs(
        self, project: str, services: Sequence[str], *, follow: bool, tail: str | None
    ) -> int:
        """The logs as `compose -p PROJECT logs` prints them, secrets masked: read over
        the Engine API when it need not follow (state/docker/api_logs.py), else Compose's
        own (state/docker/logs.py)."""
        records = self.containers(project)
        if not follow and self.api is not None:
            from state.docker.api_logs import print_logs

            bound = self.timeouts.whole_project
            return print_logs(self.api, records, project, services, tail=tail, bound=bound)
        from state.docker.logs import stream_project_logs

        return stream_project_logs(
            self.commands, records, project, services, follow=follow, tail=tail
        )

    def follow_events(
        self,
        project: str,
        put: Callable[[ContainerEvent | StreamLost], None],
        stop: threading.Event,
        started: Callable[[DockerEvents], None],
    ) -> None:
        """Hand the project's container events to `put` until `stop` is set (the watch's
        feed, in its own thread; state/docker/events.py)."""
        from state.docker.events import pump

        pump(self.commands, project, put, stop, docker=self.command_lines().docker, started=started)

    # -- what the swarm backend asks of the local engine (state/swarm/adapter.py) ------
    def push_image(self, image: str, target: str) -> None:
        """`image` pushed as `target` (tag, push, untag)."""
        self._docker("tag", with_tag(image), target, what=f"docker tag {image}")
        try:
            self._docker(
                "push", "-q", target, what=f"docker push {target}", bound=self.timeouts.write(1)
            )
        finally:
            self._docker("rmi", target, what=f"docker rmi {target}")
