"""Run the user's notifier with one JSON event on stdin (apply stage, after the receipt).

`--notify CMD`, or `notify = "CMD"` in the environment's row of the table, names a
command (split as a shell would, run without one) that gets one event per outcome:
`applied`, `failed`, `rolled_back` (reconcile, apply FILE, restart, stop, down), and,
in `reconcile watch`, `drift_found` (before a pass applies) and `drift_repaired`
(instead of `applied`). The event is a JSON document with secret values masked. The
notifier gets RECONCILE_NOTIFY_TIMEOUT seconds (default 10): then it is killed, with
its process group. A notifier that cannot start, fails or hangs costs one warning line;
it never fails the apply, nor holds it longer than that.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from typing import Any

from state.secrets import redact

APPLIED = "applied"
FAILED = "failed"
ROLLED_BACK = "rolled_back"
DRIFT_FOUND = "drift_found"
DRIFT_REPAIRED = "drift_repaired"
EVENTS = (APPLIED, FAILED, ROLLED_BACK, DRIFT_FOUND, DRIFT_REPAIRED)
KIND = "reconcile-event"
SCHEMA_VERSION = 1
TIMEOUT = 10.0
TIMEOUT_VARIABLE = "RECONCILE_NOTIFY_TIMEOUT"


def command_of(text: str) -> tuple[str, ...]:
    """`notify`'s command, split as a shell splits it (no shell runs it)."""
    return tuple(shlex.split(text))


def timeout(environ: Mapping[str, str] | None = None) -> float:
    env = os.environ if environ is None else environ
    try:
        return max(0.1, float(env.get(TIMEOUT_VARIABLE) or TIMEOUT))
    except ValueError:
        return TIMEOUT


def event(name: str, project: str, details: Mapping[str, Any]) -> dict[str, Any]:
    """The document a notifier reads: what happened, where, when, and the details."""
    assert name in EVENTS, name
    return {
        "kind": KIND,
        "schema_version": SCHEMA_VERSION,
        "event": name,
        "project": project,
        "host": socket.gethostname(),
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **details,
    }


def send(
    command: Sequence[str],
    document: Mapping[str, Any],
    say: Callable[[str], None],
    *,
    seconds: float | None = None,
) -> bool:
    """Run `command` with `document` on stdin; True when it exited 0 in time."""
    if not command:
        return True
    limit = timeout() if seconds is None else seconds
    payload = redact(json.dumps(document)).encode() + b"\n"
    shown = f"notifier {shlex.join(command)[:80]} ({document.get('event')})"
    try:
        process = subprocess.Popen(
            list(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own group: a timeout ends its children too
        )
    except OSError as exc:
        say(f"warning: {shown} did not start: {exc.strerror or exc}; the apply is unaffected")
        return False
    try:
        _, err = process.communicate(payload, timeout=limit)
    except subprocess.TimeoutExpired:
        _kill(process)
        say(f"warning: {shown} still ran after {limit:g} s: killed; the apply is unaffected")
        return False
    except OSError:  # it closed stdin without reading: what it did next still counts
        err = b""
        process.wait(limit)
    if process.returncode != 0:
        last = (err or b"").decode(errors="replace").strip().splitlines()[-1:] or [""]
        why = f": {redact(last[0])[:200]}" if last[0] else ""
        say(f"warning: {shown} exited with code {process.returncode}{why}")
        return False
    return True


def _kill(process: subprocess.Popen[bytes]) -> None:
    with suppress(OSError):
        os.killpg(process.pid, signal.SIGKILL)
    with suppress(OSError):
        process.kill()
    with suppress(subprocess.TimeoutExpired):
        process.communicate(timeout=5)
