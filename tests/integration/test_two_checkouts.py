"""Two checkouts with the same directory name are one Compose project, on the real
engine: the second checkout's writes are refused (nothing of the first touched), its
plan and status say why, and --take-over takes the project over on purpose."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from tests.integration.plain_stack import PlainStack

TABLE = """default = "test"
[environments.test]
description = "one service with a volume"
files = ["compose.yaml"]
"""
COMPOSE = """services:
  web:
    image: spot-busybox:local
    pull_policy: never
    init: true
    command: ["sleep", "3600"]
    volumes: [data:/data]
volumes:
  data:
"""


def checkout(root: Path, name: str) -> Path:
    directory = root / name
    (directory / "compose").mkdir(parents=True)
    (directory / "compose/environments.toml").write_text(TABLE)
    (directory / "compose/compose.yaml").write_text(COMPOSE)
    return directory


def reconcile(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "COMPOSE_PROJECT_NAME"}
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        cwd=directory, capture_output=True, text=True, env={**env, "APP_ENV": "test"},
    )  # fmt: skip


def ids(project: str) -> list[str]:
    return subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={project}"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip


def test_the_second_checkout_is_refused_until_it_takes_over(tmp_path: Path) -> None:
    name = f"spotit-twin-{uuid.uuid4().hex[:6]}"  # both checkouts' directory name
    first, second = checkout(tmp_path / "work", name), checkout(tmp_path / "review", name)
    try:
        assert reconcile(first, "--no-wait").returncode == 0
        made = ids(name)
        assert made
        for args in (
            ["--no-wait"],
            ["restart", "--no-wait"],
            ["stop"],
            ["down", "--volumes", "--yes"],
        ):
            refused = reconcile(second, *args)
            assert refused.returncode == 1, (args, refused.stdout)
            assert f"its containers were made in {first}" in refused.stderr, refused.stderr
            assert f"this checkout is {second}" in refused.stderr
            assert "--take-over" in refused.stderr and refused.stderr.count("\n") == 1
        assert ids(name) == made  # nothing of the first checkout's touched
        planned = reconcile(second, "--plan")
        assert planned.returncode == 2 and "runs from another checkout" in planned.stderr
        assert "made from another checkout" in planned.stdout
        assert "runs from another checkout" in reconcile(second, "status").stderr
        assert reconcile(second, "--no-wait", "--take-over").returncode == 0
        assert not set(made) & set(ids(name))
        assert reconcile(second, "--plan").returncode == 0
        assert reconcile(first, "--no-wait").returncode == 1  # now the first is the other
    finally:
        PlainStack(directory=second, app_env="test", name=name).remove_everything()


def test_a_checkout_moved_away_is_taken_over_without_asking(tmp_path: Path) -> None:
    """`mv ~/work/spot ~/src/spot` (or a machine whose engine outlived its checkout):
    the directory that made the containers is gone, nobody else can be using them."""
    name = f"spotit-moved-{uuid.uuid4().hex[:6]}"
    first = checkout(tmp_path / "work", name)
    moved = tmp_path / "src" / name
    try:
        assert reconcile(first, "--no-wait").returncode == 0
        made = ids(name)
        moved.parent.mkdir()
        first.rename(moved)
        planned = reconcile(moved, "--plan")
        assert planned.returncode == 2 and "runs from another checkout" not in planned.stderr
        applied = reconcile(moved, "--no-wait")
        assert applied.returncode == 0, applied.stderr
        assert not set(made) & set(ids(name)), "recreated from the checkout's new place"
        assert reconcile(moved, "--plan").returncode == 0
    finally:
        PlainStack(directory=moved, app_env="test", name=name).remove_everything()
