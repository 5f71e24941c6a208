"""Integration fixtures: a real Docker engine and Compose v2, never a mock.

The spec's safety check: these tests refuse to start unless APP_ENV=test, so they can
never run against a dev or prod database, nor on an engine the environment table marks
as production (tests/integration/engine_guard.py). Every stack they start has its own Compose
project name (`spotit-...`) and free loopback ports, and is removed afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from state.resolve.project import COMPOSE_DIR
from tests.integration.engine_guard import production_engine_refusal
from tests.integration.plain_stack import REPO, PlainStack, require_engine

GUARD_MESSAGE = "Integration tests must run in test environment"


def pytest_configure(config: pytest.Config) -> None:
    app_env = os.getenv("APP_ENV", "")
    if app_env != "test":
        # UsageError: pytest prints the one line and exits non-zero, no traceback.
        raise pytest.UsageError(
            f"{GUARD_MESSAGE} (APP_ENV={app_env!r}): run `just test-integration` or `just test`"
        )
    refusal = production_engine_refusal(REPO / COMPOSE_DIR)
    if refusal:
        raise pytest.UsageError(refusal)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration/" in item.nodeid:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session", autouse=True)
def docker_engine() -> None:
    """Fail fast, with the fix, when there is no engine (CI starts it with `just engine`)."""
    require_engine()


@pytest.fixture
def stack(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[PlainStack]:
    """A copy of the stack in prod, named after the test, removed completely afterwards."""
    label = request.node.name.removeprefix("test_")[:12].replace("_", "-").strip("-")
    stack = PlainStack.create(tmp_path, "prod", label=label)
    try:
        yield stack
    finally:
        stack.remove_everything()
