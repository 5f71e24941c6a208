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
from collections.abc import Iterator, Sequence

from state import secrets
from state.docker.api import EngineAPI
from state.engine import NUMBER_LABEL, ONEOFF_LABEL, SERVICE_LABEL, ContainerRecord

_HEADER = struct.Struct(">BxxxL")  # stream (0 stdin, 1 stdout, 2 stderr), payload size


def shown(records: Sequence[ContainerRecord], services: Sequence[str]) -> list[ContainerRecord]:
    """The containers whose logs are printed, in the order they are: the services named
    (all when none is), no one-offs."""
    chosen = [
        r
        for r in records
        if r.labels.get(ONEOFF_LABEL) != "True"
        and (not services or r.labels.get(SERVICE_LABEL) in services)
    ]
    return sorted(chosen, key=lambda r: (r.labels.get(SERVICE_LABEL, ""), _number(r), r.name))


def short_name(record: ContainerRecord, project: str) -> str:
    """The name Compose prints: without `project-` when it is Compose's own."""
    service, number = record.labels.get(SERVICE_LABEL, ""), record.labels.get(NUMBER_LABEL)
    default = f"{project}-{service}-{number}"
    return record.name[len(project) + 1 :] if record.name == default else record.name


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
    containers = {r.id: r for r in shown(records, services)}
    query = urllib.parse.urlencode({"stdout": 1, "stderr": 1, "tail": tail or "all"})
    paths = [f"/containers/{cid}/logs?{query}" for cid in containers]
    width = 0
    for path, body in _answers(api, paths, bound):
        record = containers[path.split("/")[2]]
        name = short_name(record, project)
        lines = lines_of(body, record.tty)
        if not lines:
            continue  # Compose makes a prefix only for a container that printed a line
        width = max(width, len(name) + 1)
        prefix = f"{name:<{width}} | "
        sys.stdout.write("".join(f"{prefix}{line}\n" for line in lines))
        sys.stdout.flush()
    return 0


def _answers(api: EngineAPI, paths: Sequence[str], bound: float) -> Iterator[tuple[str, bytes]]:
    """Each container's log body (one removed since it was listed is left out)."""
    return api.bodies(*paths, what="docker compose logs", bound=bound, gone_ok=True)


def _number(record: ContainerRecord) -> int:
    try:
        return int(record.labels.get(NUMBER_LABEL, "0"))
    except ValueError:
        return 0
