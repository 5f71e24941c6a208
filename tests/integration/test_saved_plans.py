"""Saved plans on the real engine: `reconcile --plan --out FILE`, `reconcile apply FILE`.

Save on an empty project (nothing created), apply exactly that plan (converges), then
apply the same file again: the containers it was computed from have changed (they
exist now), so it is refused as stale, with what changed, exit 1, and nothing
touched. A container stopped by hand between save and apply is named in the refusal,
and stays stopped; a file applied to another project is refused.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.plain_stack import (
    REPO,
    PlainStack,
    fingerprint,
    reconcile,
    reconcile_environment,
)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[PlainStack]:
    stack = PlainStack.create(tmp_path / "project", "prod", label="saved-plan")
    try:
        yield stack
    finally:
        stack.remove_everything()


def test_save_apply_then_the_same_file_is_stale(stack: PlainStack, tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.json"
    saved = reconcile(stack, "--plan", "--out", str(plan_file), app_env="prod")
    assert saved.returncode == 2, saved.stdout + saved.stderr
    assert stack.containers() == []  # saving a plan creates nothing
    document = json.loads(plan_file.read_text())
    assert document["schema_version"] == 2
    assert {a["kind"] for a in document["plan"]["actions"]} == {"create"}

    checked = reconcile(stack, "apply", str(plan_file), "--plan", app_env="prod")
    assert checked.returncode == 2, checked.stdout + checked.stderr
    assert stack.containers() == []

    applied = reconcile(stack, "apply", str(plan_file), app_env="prod")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "Converged" in applied.stdout
    assert len(stack.containers()) == len(document["plan"]["actions"])
    assert reconcile(stack, "--plan", app_env="prod").returncode == 0

    before = fingerprint(stack)
    again = reconcile(stack, "apply", str(plan_file), app_env="prod")
    assert again.returncode == 1
    assert again.stderr.count("\n") == 1 and "Traceback" not in again.stderr
    assert "the saved plan is stale" in again.stderr
    assert f"container {stack.name}-db-1 (id " in again.stderr and "appeared" in again.stderr
    assert fingerprint(stack) == before


def test_a_container_stopped_by_hand_makes_the_plan_stale(
    stack: PlainStack, tmp_path: Path
) -> None:
    assert reconcile(stack, "--no-wait", app_env="prod").returncode == 0
    plan_file = tmp_path / "plan.json"
    saved = reconcile(stack, "--plan", "--out", str(plan_file), app_env="prod")
    assert saved.returncode == 0, saved.stdout + saved.stderr
    subprocess.run(
        ["docker", "stop", "-t", "2", f"{stack.name}-db-1"], check=True, capture_output=True
    )
    before = fingerprint(stack)

    refused = reconcile(stack, "apply", str(plan_file), app_env="prod")
    assert refused.returncode == 1
    assert f"container {stack.name}-db-1 changed state: running -> exited" in refused.stderr
    assert fingerprint(stack) == before

    other = [sys.executable, "-m", "reconciler", "apply", str(plan_file), "--project-name"]
    elsewhere = subprocess.run(
        [*other, "spotit-other", "--project-directory", str(stack.directory)],
        capture_output=True,
        text=True,
        env=reconcile_environment("prod"),
        cwd=REPO,
        timeout=120,
    )
    assert elsewhere.returncode == 1
    assert f"the plan is for project {stack.name}" in elsewhere.stderr
    assert fingerprint(stack) == before
