"""`reconcile logs` on the real engine: Compose's own `logs` to this terminal (render
side of the Docker adapter, state/docker/adapter.py).

Aimed at an empty project directory, so Compose finds no file and knows the project
by its containers' labels: missing images or broken files do not matter. The
containers' environments are learnt first (what their logs print may be secret too),
and the output goes through sys.stdout, which the CLI masks (reconciler/cli/redaction.py).
Bounded unless it follows (then it runs until Ctrl-C).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Sequence

from state import secrets
from state.docker.args import logs_command
from state.docker.run import Commands
from state.engine import ContainerRecord


def stream_project_logs(
    commands: Commands,
    records: Sequence[ContainerRecord],
    project: str,
    services: Sequence[str],
    *,
    follow: bool,
    tail: str | None,
) -> int:
    """The services' logs (all when none is named), secrets masked; Compose's exit code.
    `records`: the project's containers, whose environments may hold secrets."""
    for record in records:
        secrets.remember(record.env)
    with tempfile.TemporaryDirectory(prefix="reconcile-logs-") as empty:
        command = logs_command(project, empty, services, follow=follow, tail=tail)
        if not follow:
            done = commands.execute(
                command, what="docker compose logs", bound=commands.timeouts.whole_project
            )
            sys.stdout.write(done.stdout or "")
            sys.stderr.write(done.stderr or "")
            return done.returncode
        with commands.stream(command) as streamed:
            assert streamed.stdout is not None
            for line in streamed.stdout:
                sys.stdout.write(line)
                sys.stdout.flush()
        return streamed.returncode
