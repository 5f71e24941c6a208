"""`reconcile logs` without --follow, read over the Engine API (render side of the Docker adapter).

Compose's own `logs` spends its start (~0.2 s here) before its first line; one request
per container on the local socket answers in milliseconds. What is printed is what
Compose prints (docker/compose pkg/compose/logs.go, cmd/formatter/logs.go, without a
terminal: no colour): each container's stdout and stderr together, demultiplexed (a
container with a TTY sends them raw), cut into lines, a last line without its newline
left out as Compose leaves it out; every line after the container's name without the
project (`service-N`; a `container_name` as it is), padded to the longest name printed
so far plus one, then ` | `. One-off containers are not shown. The containers go one
after another, by service and number (Compose reads them all at once: its order is
whatever comes first). --follow stays Compose's own: it also follows the containers
started while it runs. Secrets are masked by the CLI's stdout (reconciler/cli/redaction.py).
"""

from __future__ import annotations

import struct
import sys
import urllib.parse
from collections.abc import Sequence

from state import secrets
from state.docker.api import EngineAPI
from state.engine import ContainerRecord
from state.model.observed import ObservedContainer, observed_of

_HEADER = struct.Struct(">BxxxL")  # stream (0 stdin, 1 stdout, 2 stderr), payload size


def shown(
    project: str, records: Sequence[ContainerRecord], services: Sequence[str]
) -> list[ObservedContainer]:
    """The containers whose logs are printed, in the order they are: the project's, as
    observe sees them (no one-offs; by service and number), of the services named (all
    when none is)."""
    observed = observed_of(project, records).containers
    return [c for c in observed if not services or c.service in services]


def short_name(container: ObservedContainer, project: str) -> str:
    """The name Compose prints: without `project-` when it is Compose's own."""
    default = f"{project}-{container.service}-{container.number}"
    return container.name[len(project) + 1 :] if container.name == default else container.name


def demultiplexed(body: bytes) -> bytes:
    """stdout and stderr of a multiplexed log stream, in the order they came."""
    out, at = bytearray(), 0
    while at + _HEADER.size <= len(body):
        _, size = _HEADER.unpack_from(body, at)
        at += _HEADER.size
        out += body[at : at + size]
        at += size
    return bytes(out)


def lines_of(body: bytes, tty: bool) -> list[str]:
    """The complete lines of a container's log body (an unterminated last one dropped)."""
    text = (body if tty else demultiplexed(body)).decode(errors="replace")
    return text.split("\n")[:-1]


def print_logs(
    api: EngineAPI,
    records: Sequence[ContainerRecord],
    project: str,
    services: Sequence[str],
    *,
    tail: str | None,
    bound: float,
) -> int:
    """Print the logs of the containers `shown`, each as its answer comes; exit code 0.
    `records`: the project's containers, whose environments may hold secrets."""
    for record in records:
        secrets.remember(record.env)
    containers = {c.id: c for c in shown(project, records, services)}
    raw = {r.id for r in records if r.tty}  # a TTY's log is not multiplexed
    query = urllib.parse.urlencode({"stdout": 1, "stderr": 1, "tail": tail or "all"})
    paths = [f"/containers/{cid}/logs?{query}" for cid in containers]
    width = 0
    answers = api.bodies(*paths, what="docker compose logs", bound=bound, gone_ok=True)
    for path, body in answers:  # one removed since it was listed is left out
        container = containers[path.split("/")[2]]
        name = short_name(container, project)
        lines = lines_of(body, container.id in raw)
        if not lines:
            continue  # Compose makes a prefix only for a container that printed a line
        width = max(width, len(name) + 1)
        prefix = f"{name:<{width}} | "
        sys.stdout.write("".join(f"{prefix}{line}\n" for line in lines))
        sys.stdout.flush()
    return 0
