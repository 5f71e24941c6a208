"""Images as `docker compose up` handles them, on the real engine (no registry here):
- a service with `build:` and no image on the engine: planned `will be built`; the
  apply builds it (Compose's progress on stderr) and converges; a second plan is empty;
- an image that must be pulled and cannot be: planned `will be pulled`; the apply ends
  with one line naming the image, its service and the registry's answer, and nothing
  is created on the engine;
- an image that can be neither pulled nor built (pull_policy never): the plan says
  `up` would fail, the apply refuses in one line before anything is touched.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

from tests.integration.test_corpus import engine_holds, environment

BUILT = """\
services:
  built:
    build: context
    init: true
    command: ["sleep", "300"]
"""
PULLED = """\
services:
  pulled:
    image: registry.invalid/spotit/nothing:1
    command: ["sleep", "300"]
"""
NEVER = """\
services:
  kept:
    image: spotit-never-built:local
    pull_policy: never
"""


def reconcile(cwd: Path, name: str, *argv: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment() | {"COMPOSE_PROJECT_NAME": name},
        timeout=300,
    )
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    return done


def project(tmp_path: Path, text: str) -> tuple[Path, str]:
    (tmp_path / "compose.yaml").write_text(text)
    return tmp_path, f"spotit-images-{uuid.uuid4().hex[:6]}"


def test_a_missing_image_with_a_build_is_built_by_the_apply(tmp_path: Path) -> None:
    cwd, name = project(tmp_path, BUILT)
    (cwd / "context").mkdir()
    (cwd / "context" / "Dockerfile").write_text("FROM spot-busybox:local\nLABEL spotit=1\n")
    try:
        plan = reconcile(cwd, name, "--plan")
        assert plan.returncode == 2, plan.stderr
        assert f"image {name}-built will be built" in plan.stdout
        applied = reconcile(cwd, name, "--wait-timeout", "60")
        assert applied.returncode == 0, applied.stdout + applied.stderr
        assert "Built" in applied.stderr  # Compose's own progress, shown
        again = reconcile(cwd, name, "--plan")
        assert again.returncode == 0 and "No changes." in again.stdout, again.stdout
        assert reconcile(cwd, name, "down").returncode == 0
    finally:
        subprocess.run(["docker", "compose", "-p", name, "down"], capture_output=True, cwd=cwd)
        subprocess.run(["docker", "rmi", f"{name}-built"], capture_output=True)
    assert engine_holds(name) == []


def test_a_pull_that_cannot_succeed_is_one_line_and_creates_nothing(tmp_path: Path) -> None:
    cwd, name = project(tmp_path, PULLED)
    plan = reconcile(cwd, name, "--plan")
    assert plan.returncode == 2, plan.stderr
    assert "image registry.invalid/spotit/nothing:1 will be pulled" in plan.stdout
    applied = reconcile(cwd, name, "--no-wait")
    assert applied.returncode == 1
    last = applied.stderr.strip().splitlines()[-1]
    assert last.startswith("reconcile: apply failed: cannot pull image "), applied.stderr
    assert "registry.invalid/spotit/nothing:1 (service pulled)" in last
    assert "registry.invalid" in last.split("):", 1)[1]  # the registry's own answer
    assert engine_holds(name) == []


def test_an_image_that_can_be_neither_pulled_nor_built(tmp_path: Path) -> None:
    cwd, name = project(tmp_path, NEVER)
    plan = reconcile(cwd, name, "--plan")
    assert plan.returncode == 2, plan.stderr
    assert "image spotit-never-built:local is not on this engine" in plan.stdout
    applied = reconcile(cwd, name)
    assert applied.returncode == 1 and applied.stdout == ""
    errors = [line for line in applied.stderr.splitlines() if not line.startswith("reconcile: no")]
    assert len(errors) == 1 and "spotit-never-built:local" in errors[0], applied.stderr
    assert engine_holds(name) == []
