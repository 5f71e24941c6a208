"""The Docker adapter's parse step: `docker container inspect` JSON -> ContainerRecord.

Part of the adapter (state/docker/adapter.py runs the command, this reads its output):
tolerant alias models that ignore every key we do not read, and no I/O, so the parse
is tested on captured JSON (tests/fixtures/inspect/).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from state.engine import ContainerRecord, ContainerStatus
from state.errors import PermanentError


class _Probe(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)
    output: str = Field(default="", alias="Output")


class _Health(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)
    status: str = Field(alias="Status")
    log: list[_Probe] | None = Field(default=None, alias="Log")


class _State(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)
    status: ContainerStatus = Field(alias="Status")
    exit_code: int | None = Field(default=None, alias="ExitCode")
    health: _Health | None = Field(default=None, alias="Health")


class _Config(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)
    labels: dict[str, str] | None = Field(default=None, alias="Labels")
    env: list[str] | None = Field(default=None, alias="Env")


class _Inspect(BaseModel):
    """The part of `docker container inspect` we read; tolerant of everything else."""

    model_config = ConfigDict(extra="ignore", defer_build=True)
    id: str = Field(alias="Id")
    name: str = Field(alias="Name")
    image: str = Field(alias="Image")
    state: _State = Field(alias="State")
    config: _Config = Field(alias="Config")

    def record(self) -> ContainerRecord:
        """The record of this validated document: constructed from its typed fields, not
        validated again (tests/unit/test_lean_reads.py checks it would be the same)."""
        env = dict(item.split("=", 1) for item in self.config.env or [] if "=" in item)
        return ContainerRecord.model_construct(
            id=self.id,
            name=self.name.lstrip("/"),
            labels=self.config.labels or {},
            status=self.state.status,
            health=self.state.health.status if self.state.health else None,
            health_output=(
                self.state.health.log[-1].output.strip()
                if self.state.health and self.state.health.log
                else None
            ),
            exit_code=self.state.exit_code,
            env=env,
            image_id=self.image,
        )


def parse_inspect(payload: str) -> list[ContainerRecord]:
    """`docker container inspect` JSON -> records (the adapter's parse step, no I/O)."""
    try:
        items = json.loads(payload)
    except ValueError as exc:
        raise PermanentError(f"unexpected `docker inspect` output: {exc}") from None
    return records_of(items)


def records_of(items: list[Any]) -> list[ContainerRecord]:
    """Inspect documents (the CLI's array, or the Engine API's one per container) ->
    records."""
    try:
        return [_Inspect.model_validate(item).record() for item in items]
    except (ValueError, ValidationError) as exc:
        raise PermanentError(f"unexpected `docker inspect` output: {exc}") from None
