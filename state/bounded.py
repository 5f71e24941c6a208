"""Run one command with a time bound, and leave nothing of it behind when the bound passes.

The command runs in its own process group, so that on timeout (or Ctrl-C) the whole
group goes: `docker compose` is a plugin process under `docker`, and killing only the
parent would leave it running. The group gets SIGTERM first (Compose then stops
cleanly), SIGKILL after a short grace.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Sequence

GRACE = 2.0


def run_bounded(
    args: Sequence[str], timeout: float | None, *, capture: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run `args`; raise subprocess.TimeoutExpired once `timeout` seconds have passed."""
    pipe = subprocess.PIPE if capture else None
    with subprocess.Popen(
        list(args),
        stdin=subprocess.DEVNULL if capture else None,
        stdout=pipe,
        stderr=pipe,
        text=True,
        errors="replace",
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except BaseException:  # the bound passed, or Ctrl-C: the whole group goes
            _end_group(process)
            raise
        return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _end_group(process: subprocess.Popen[str]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.communicate(timeout=GRACE)
            return
        except subprocess.TimeoutExpired:
            continue
