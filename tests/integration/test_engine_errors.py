"""Engine failures on the real engine: permanent ones fail at once, a gone container is fine.

The classification itself is table-driven on captured stderr (tests/unit/
test_docker_engine.py); here the real engine produces those messages again, and the
reconciler must act on them: no retries for what a retry cannot fix, and a container
removed out of band while it is being stopped or removed counts as done.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

from state.docker.adapter import DockerEngine
from tests.integration.plain_stack import PlainStack, reconcile


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout


def test_a_name_held_by_another_container_fails_at_once_with_the_fix(stack: PlainStack) -> None:
    # Not the project's (no Compose labels): the planner never sees it, Compose trips on it.
    squatter = f"{stack.name}-analyzer-llm-1"
    docker("create", "--name", squatter, "spot-busybox:local", "true")
    try:
        result = reconcile(stack, "--no-wait", "-v")  # -v would show any retry
        assert result.returncode == 1, result.stdout + result.stderr
        assert "is already in use by container" in result.stderr
        assert "Another container holds that name: remove or rename it" in result.stderr
        assert "transient engine error" not in result.stderr, "a permanent error was retried"
    finally:
        subprocess.run(["docker", "rm", "-f", squatter], capture_output=True)


class StaleListing(DockerEngine):
    """The real adapter, except that its first presence check answers from before a removal."""

    stale = True

    def _present(self, container_ids: Sequence[str]) -> list[str]:
        if self.stale:
            self.stale = False
            return list(container_ids)
        return super()._present(container_ids)


def test_a_container_gone_meanwhile_is_stopped_and_removed_already(stack: PlainStack) -> None:
    keep = docker(
        "create", "--init", "--label", "robust-test=1", "spot-busybox:local", "sleep", "60"
    )
    gone = docker("create", "--label", "robust-test=1", "spot-busybox:local", "true")
    keep, gone = keep.strip(), gone.strip()
    try:
        docker("start", keep)
        docker("rm", gone)
        # Both raised "No such container", which was retried as transient, before.
        DockerEngine(stack.project).stop([gone, keep])
        assert docker("inspect", "--format", "{{.State.Running}}", keep).strip() == "false"
        docker("start", keep)
        StaleListing(stack.project).remove([gone, keep])
        listed = docker("ps", "-aq", "--no-trunc", "--filter", f"id={keep}").split()
        assert listed == []
    finally:
        subprocess.run(["docker", "rm", "-f", keep, gone], capture_output=True)
