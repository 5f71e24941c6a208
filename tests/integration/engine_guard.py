"""The test guard, generalised: besides APP_ENV=test, the integration tests refuse to
run against an engine the environment table marks as production (its `[engines]`)."""

from __future__ import annotations

from pathlib import Path

from reconciler.planner.guards import matching
from state.docker.adapter import DockerEngine
from state.resolve.table import load_table


def production_engine_refusal(table_dir: Path) -> str | None:
    """Why the tests must not run on this engine (None: they may). Asks the engine who it
    is only when the table names engines."""
    table = load_table(table_dir)
    if not table.engines:
        return None
    identity = DockerEngine().identity()
    production = [name for name, spec in matching(table, identity) if spec.production]
    if not production:
        return None
    return (
        f"Integration tests must not run against a production engine: {identity} is "
        f"{', '.join(production)} in {table_dir / 'environments.toml'}; point DOCKER_HOST "
        "(or the docker context) at a test engine"
    )
