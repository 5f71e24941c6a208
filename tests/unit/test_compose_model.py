"""Compose's model is validated where Compose answers (state/docker/compose_model.py):
the keys the desire stage reads must have the shape it reads, every other key is left
alone, and a model that does not fit is one line naming the key, never a traceback."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from state.docker.compose_model import checked
from state.errors import ConfigError

MODEL: dict[str, Any] = {
    "name": "demo",
    "services": {
        "api": {
            "image": "spot-app:local",
            "depends_on": {"db": {"condition": "service_healthy", "required": True}},
            "environment": {"APP_ENV": "prod", "UNSET": None},
            "volumes": [{"type": "bind", "source": "/srv", "target": "/app"}],
            "ports": [{"host_ip": "127.0.0.1", "published": "8000", "target": 8000}],
            "healthcheck": {"test": ["CMD", "true"], "interval": "2s"},
            "deploy": {"replicas": 2, "update_config": {"order": "start-first"}},
            "labels": {"team": "x"},
            "stop_grace_period": "1m30s",
            "x-anything": {"kept": True},
        },
        "db": {"image": "spot-runtime:local", "scale": 1, "init": True},
    },
    "networks": {"default": {"name": "demo_default"}},
}


def test_a_model_of_the_read_shape_comes_back_unchanged() -> None:
    model = copy.deepcopy(MODEL)
    assert checked(model) is model
    assert model == MODEL


@pytest.mark.parametrize(
    ("service", "key", "value", "where"),
    [
        ("db", "scale", -1, "services.db.scale"),
        ("api", "labels", {"team": 3}, "services.api.labels.team"),
        ("api", "depends_on", {"db": {"restart": "sometimes"}}, "services.api.depends_on.db"),
        ("api", "ports", [{"target": "http"}], "services.api.ports.0.target"),
        ("api", "volumes", [{"source": "/srv"}], "services.api.volumes.0.type"),
        ("api", "environment", ["APP_ENV=prod"], "services.api.environment"),
    ],
)
def test_a_key_of_the_wrong_shape_is_one_line_naming_it(
    service: str, key: str, value: object, where: str
) -> None:
    model = copy.deepcopy(MODEL)
    model["services"][service][key] = value
    with pytest.raises(ConfigError) as caught:
        checked(model)
    message = str(caught.value)
    assert f"cannot read at {where}" in message and "\n" not in message
    assert "docker compose version" in message


def test_not_an_object_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"at \(top level\)"):
        checked(["services"])
