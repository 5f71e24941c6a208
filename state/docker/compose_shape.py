"""pydantic's view of the keys of Compose's model that the desire stage reads
(state/docker/compose_model.py validates with it). Every other key is allowed."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

_OPEN = ConfigDict(extra="allow")
Duration = str | int | float | None  # `1m30s`, or seconds


class Dependency(BaseModel):
    model_config = _OPEN
    condition: str = "service_started"
    restart: bool = False


class Mount(BaseModel):
    model_config = _OPEN
    type: str
    source: str | None = None


class Port(BaseModel):
    model_config = _OPEN
    host_ip: str | None = None
    published: str | int | None = None
    target: int | None = None


class Healthcheck(BaseModel):
    model_config = _OPEN
    disable: bool = False
    interval: Duration = None
    start_interval: Duration = None


class UpdateConfig(BaseModel):
    model_config = _OPEN
    order: str | None = None


class Deploy(BaseModel):
    model_config = _OPEN
    replicas: int | None = Field(default=None, ge=0)
    mode: str | None = None
    update_config: UpdateConfig | None = None


class Service(BaseModel):
    model_config = _OPEN
    image: str | None = None
    pull_policy: str | None = None
    depends_on: dict[str, Dependency] | None = None
    environment: dict[str, str | None] | None = None
    volumes: list[Mount] | None = None
    healthcheck: Healthcheck | None = None
    scale: int | None = Field(default=None, ge=0)
    deploy: Deploy | None = None
    ports: list[Port] | None = None
    privileged: bool | None = None
    cap_add: list[str] | None = None
    profiles: list[str] | None = None
    labels: dict[str, str] | None = None
    stop_grace_period: Duration = None
    init: bool | None = None
    container_name: str | None = None


class ComposeModel(BaseModel):
    model_config = _OPEN
    services: dict[str, Service] | None = None
