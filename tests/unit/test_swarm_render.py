"""The Compose model -> stack model renderer (state/swarm/render.py): pure, no engine."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from state.errors import ConfigError
from state.swarm.render import (
    HASH_LABEL,
    IMAGE_ID_LABEL,
    SERVICE_LABEL,
    VOLUME_PLACEMENT,
    config_hash,
    registry_image,
    render_stack,
)

REGISTRY = "127.0.0.1:5077"


def model() -> dict[str, Any]:
    """The shapes `docker compose config --format json` gives (captured from the stack)."""
    return {
        "name": "demo",
        "networks": {"default": {"name": "demo_default", "ipam": {}}},
        "volumes": {"db-data": {"name": "demo_db-data"}},
        "services": {
            "db": {
                "image": "spot-runtime:local",
                "command": ["/usr/local/bin/pg-start"],
                "entrypoint": None,
                "environment": {"APP_ENV": "prod", "POSTGRES_PASSWORD": "spot"},
                "healthcheck": {"test": ["CMD", "pg_isready"], "interval": "1s", "retries": 30},
                "init": True,
                "networks": {"default": None},
                "pull_policy": "never",
                "restart": "unless-stopped",
                "stop_grace_period": "5s",
                "user": "postgres",
                "volumes": [
                    {"type": "volume", "source": "db-data", "target": "/data", "volume": {}}
                ],
            },
            "api-gateway": {
                "image": "spot-app:local",
                "environment": {"APP_ENV": "prod"},
                "depends_on": {"db": {"condition": "service_healthy", "required": True}},
                "networks": {"default": None},
                "ports": [
                    {
                        "mode": "ingress",
                        "host_ip": "127.0.0.1",
                        "target": 8080,
                        "published": "18080",
                        "protocol": "tcp",
                    }
                ],
                "volumes": [
                    {
                        "type": "bind",
                        "source": "/src",
                        "target": "/app",
                        "bind": {"create_host_path": True},
                    }
                ],
                "healthcheck": {"test": ["CMD", "true"], "start_interval": "1s"},
            },
            "adminer": {
                "image": "spot-adminer:local",
                "profiles": ["dev"],
                "environment": {"APP_ENV": "prod"},
                "deploy": {"replicas": 3, "placement": {"max_replicas_per_node": 1}},
            },
        },
    }


def stack(**kwargs: Any) -> dict[str, Any]:
    return render_stack(
        kwargs.pop("model", None) or model(),
        project="demo",
        registry=REGISTRY,
        image_ids={"spot-app:local": "sha256:app"},
        **kwargs,
    )


def test_what_swarm_has_no_use_for_is_dropped_and_the_rest_kept() -> None:
    db = stack()["services"]["db"]
    for key in ("pull_policy", "restart", "entrypoint", "depends_on", "profiles"):
        assert key not in db
    assert db["user"] == "postgres" and db["stop_grace_period"] == "5s" and db["init"] is True
    assert db["environment"]["APP_ENV"] == "prod"
    assert "profiles" not in stack()["services"]["adminer"]
    assert "depends_on" not in stack()["services"]["api-gateway"]


def test_ports_become_ints_in_host_mode_and_services_use_dnsrr() -> None:
    api = stack()["services"]["api-gateway"]
    assert api["ports"] == [{"target": 8080, "published": 18080, "mode": "host", "protocol": "tcp"}]
    assert all(s["deploy"]["endpoint_mode"] == "dnsrr" for s in stack()["services"].values())


def test_images_come_from_the_registry_unless_they_name_one() -> None:
    assert stack()["services"]["db"]["image"] == f"{REGISTRY}/spot-runtime:local"
    assert registry_image("ghcr.io/x/y:1", REGISTRY) == "ghcr.io/x/y:1"
    assert registry_image("library/postgres:16", REGISTRY) == f"{REGISTRY}/library/postgres:16"


def test_a_service_with_a_named_volume_stays_on_the_manager_unless_placed_otherwise() -> None:
    assert stack()["services"]["db"]["deploy"]["placement"] == {"constraints": [VOLUME_PLACEMENT]}
    assert "placement" not in stack()["services"]["api-gateway"]["deploy"]  # a bind mount only
    placed = model()
    placed["services"]["db"]["deploy"] = {"placement": {"constraints": ["node.labels.db == 1"]}}
    constraints = stack(model=placed)["services"]["db"]["deploy"]["placement"]["constraints"]
    assert constraints == ["node.labels.db == 1"]


def test_replicas_placement_and_rollback_on_failure() -> None:
    adminer = stack()["services"]["adminer"]["deploy"]
    assert adminer["replicas"] == 3 and adminer["placement"] == {"max_replicas_per_node": 1}
    assert adminer["update_config"]["failure_action"] == "rollback"
    assert stack()["services"]["db"]["deploy"]["replicas"] == 1


def test_mounts_and_healthchecks_keep_only_what_a_stack_file_takes() -> None:
    api = stack()["services"]["api-gateway"]
    assert api["volumes"] == [{"type": "bind", "source": "/src", "target": "/app"}]
    assert api["healthcheck"] == {"test": ["CMD", "true"]}


def test_labels_carry_the_hash_the_image_id_and_the_name() -> None:
    labels = stack()["services"]["api-gateway"]["deploy"]["labels"]
    assert labels[IMAGE_ID_LABEL] == "sha256:app" and labels[SERVICE_LABEL] == "api-gateway"
    raw = model()["services"]["api-gateway"]
    assert labels[HASH_LABEL] == config_hash("api-gateway", raw, "demo", REGISTRY)


def test_the_hash_moves_with_app_env_and_configuration_not_with_replicas() -> None:
    raw = model()["services"]["adminer"]
    base = config_hash("adminer", raw, "demo", REGISTRY)
    other_env = copy.deepcopy(raw)
    other_env["environment"]["APP_ENV"] = "dev"
    scaled = copy.deepcopy(raw)
    scaled["deploy"]["replicas"] = 5
    assert config_hash("adminer", other_env, "demo", REGISTRY) != base
    assert config_hash("adminer", scaled, "demo", REGISTRY) == base


def test_only_the_chosen_services_and_what_they_use_are_rendered() -> None:
    partial = stack(services=["api-gateway"])
    assert list(partial["services"]) == ["api-gateway"]
    assert partial["volumes"] == {}  # db-data belongs to db
    assert partial["networks"] == {"default": {"driver": "overlay"}}  # named by the stack
    assert stack(services=["db"])["volumes"] == {"db-data": {}}


def test_a_key_a_stack_cannot_carry_is_a_one_line_error_naming_it() -> None:
    bad = model()
    bad["services"]["db"]["network_mode"] = "host"
    with pytest.raises(ConfigError, match=r"service 'db' uses network_mode.*backend = \"swarm\""):
        stack(model=bad)


def test_a_port_range_is_refused_with_the_fix() -> None:
    bad = model()
    bad["services"]["api-gateway"]["ports"][0]["published"] = "8000-8001"
    with pytest.raises(ConfigError, match="one port per mapping"):
        stack(model=bad)
