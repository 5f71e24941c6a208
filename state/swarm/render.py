"""Compose model -> stack model: what `docker stack deploy` is given (desire stage, Swarm).

Pure: the model `docker compose config --format json` resolved for APP_ENV (files,
profiles, variables) goes in, the stack file for the same services comes out:
- what Swarm has no use for is dropped (profiles, depends_on, pull_policy, restart,
  container_name, build, scale); a key a stack cannot carry is a ConfigError naming it;
- images are pulled by the nodes from the swarm's registry (`<registry>/<image>`);
- published ports are ints with `mode: host`, and services use `endpoint_mode: dnsrr`:
  no virtual IPs or routing mesh (a kernel without IPVS has neither);
- a service with a named volume is placed on the manager (volumes are per node, so
  its data stays where its next task runs), unless it has constraints of its own;
- updates roll one task at a time and Swarm rolls back a failed one;
- `deploy.labels` carry the reconciler's config hash and local image id: drift is read
  from them, never by deploying to find out. The hash covers the service as rendered
  (APP_ENV included) except its labels and replica count: a change of scale adds or
  removes tasks, it does not update the others.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from state.errors import ConfigError

STACK_VERSION = "3.8"
HASH_LABEL = "reconcile.config-hash"
IMAGE_ID_LABEL = "reconcile.image-id"
SERVICE_LABEL = "reconcile.service"
STOPPED_LABEL = "reconcile.stopped-replicas"  # set by `stop`: how many to start again
VOLUME_PLACEMENT = "node.role == manager"

# Service keys a stack file carries as they are, and the ones Swarm has no use for.
KEPT = frozenset(
    {
        "command", "entrypoint", "environment", "healthcheck", "image", "init", "user",
        "stop_grace_period", "stop_signal", "working_dir", "volumes", "ports", "networks",
        "labels", "hostname", "extra_hosts", "tmpfs", "ulimits", "read_only", "logging",
        "dns", "dns_search", "sysctls", "stdin_open", "tty", "expose", "cap_add", "cap_drop",
    }
)  # fmt: skip
DROPPED = frozenset(
    {"profiles", "depends_on", "pull_policy", "restart", "container_name", "build", "scale"}
)
_HEALTH_KEYS = ("test", "interval", "timeout", "retries", "start_period", "disable")
UPDATE_CONFIG = {
    "parallelism": 1,
    "delay": "0s",
    "failure_action": "rollback",
    "monitor": "3s",
    "order": "stop-first",  # host-mode ports: a second task on the node could not bind
}
ROLLBACK_CONFIG = {"parallelism": 0, "failure_action": "pause", "monitor": "3s"}


def registry_image(image: str, registry: str) -> str:
    """`spot-app:local` -> `127.0.0.1:5077/spot-app:local`; a name with a registry host stays."""
    first = image.split("/", 1)[0]
    if "/" in image and ("." in first or ":" in first or first == "localhost"):
        return image
    return f"{registry}/{image}"


def replicas_of(raw: Mapping[str, Any]) -> int:
    """The replica count Compose's model gives (`scale`, else deploy.replicas, else 1)."""
    deploy = raw.get("deploy") or {}
    value = raw.get("scale", deploy.get("replicas", 1))
    return int(value if value is not None else 1)


def config_hash(name: str, raw: Mapping[str, Any], project: str, registry: str) -> str:
    """The hash of the service as rendered, without labels or replica count."""
    spec = _service(name, raw, project, registry)
    deploy = {k: v for k, v in spec["deploy"].items() if k not in ("labels", "replicas")}
    canonical = json.dumps({**spec, "deploy": deploy}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def render_stack(
    model: Mapping[str, Any],
    *,
    project: str,
    registry: str,
    image_ids: Mapping[str, str],
    services: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The stack file for `services` (default: all of the model's), with their labels."""
    raw_services: Mapping[str, Any] = model.get("services") or {}
    chosen = sorted(raw_services) if services is None else sorted(services)
    rendered: dict[str, Any] = {}
    for name in chosen:
        raw = raw_services[name]
        spec = _service(name, raw, project, registry)
        spec["deploy"]["labels"] = {
            **spec["deploy"].get("labels", {}),
            HASH_LABEL: config_hash(name, raw, project, registry),
            IMAGE_ID_LABEL: image_ids.get(raw.get("image", ""), ""),
            SERVICE_LABEL: name,
        }
        rendered[name] = spec
    used_networks = {n for spec in rendered.values() for n in spec.get("networks") or {}}
    used_volumes = {
        v["source"]
        for spec in rendered.values()
        for v in spec.get("volumes") or []
        if v.get("type") == "volume" and v.get("source")
    }
    return {
        "version": STACK_VERSION,
        "services": rendered,
        "networks": {
            key: _network(key, value or {}, project)
            for key, value in (model.get("networks") or {}).items()
            if key in used_networks
        },
        "volumes": {
            key: _volume(key, value or {}, project)
            for key, value in (model.get("volumes") or {}).items()
            if key in used_volumes
        },
    }


def _service(name: str, raw: Mapping[str, Any], project: str, registry: str) -> dict[str, Any]:
    unknown = sorted(set(raw) - KEPT - DROPPED - {"deploy"})
    if unknown:
        raise ConfigError(
            f"service {name!r} uses {', '.join(unknown)}, which `docker stack deploy` does not "
            'take: remove it from the environments on a swarm (backend = "swarm")'
        )
    spec: dict[str, Any] = {k: v for k, v in raw.items() if k in KEPT and v is not None}
    if not raw.get("image"):
        raise ConfigError(f"service {name!r} has no image: add `image:` to its compose entry")
    spec["image"] = registry_image(raw["image"], registry)
    if "healthcheck" in spec:
        spec["healthcheck"] = {k: v for k, v in spec["healthcheck"].items() if k in _HEALTH_KEYS}
    if "ports" in spec:
        spec["ports"] = [_port(name, port) for port in spec["ports"]]
    if "volumes" in spec:
        spec["volumes"] = [_mount(mount) for mount in spec["volumes"]]
    spec["deploy"] = _deploy(raw)
    return spec


def _port(service: str, port: Mapping[str, Any]) -> dict[str, Any]:
    rendered: dict[str, Any] = {"target": int(port["target"]), "mode": "host"}
    published = port.get("published")
    if published not in (None, ""):
        try:
            rendered["published"] = int(published)
        except (TypeError, ValueError):
            raise ConfigError(
                f"service {service!r} publishes port range {published!r}: a swarm needs one "
                "port per mapping; list them one by one"
            ) from None
    rendered["protocol"] = port.get("protocol") or "tcp"
    return rendered


def _mount(mount: Mapping[str, Any]) -> dict[str, Any]:
    kept = {k: v for k, v in mount.items() if k in ("type", "source", "target", "read_only")}
    if mount.get("type") == "volume" and (mount.get("volume") or {}).get("nocopy"):
        kept["volume"] = {"nocopy": True}
    if mount.get("type") == "tmpfs" and (mount.get("tmpfs") or {}).get("size"):
        kept["tmpfs"] = {"size": mount["tmpfs"]["size"]}
    return kept


def _deploy(raw: Mapping[str, Any]) -> dict[str, Any]:
    given: Mapping[str, Any] = raw.get("deploy") or {}
    placement = dict(given.get("placement") or {})
    has_volume = any(v.get("type") == "volume" for v in raw.get("volumes") or [])
    if has_volume and not placement.get("constraints"):
        placement["constraints"] = [VOLUME_PLACEMENT]
    deploy: dict[str, Any] = {
        "mode": given.get("mode") or "replicated",
        "endpoint_mode": "dnsrr",
        "update_config": {**UPDATE_CONFIG, **(given.get("update_config") or {})},
        "rollback_config": {**ROLLBACK_CONFIG, **(given.get("rollback_config") or {})},
    }
    if deploy["mode"] == "replicated":
        deploy["replicas"] = replicas_of(raw)
    if placement:
        deploy["placement"] = placement
    for key in ("resources", "restart_policy", "labels"):
        if given.get(key):
            deploy[key] = given[key]
    return deploy


def _network(key: str, value: Mapping[str, Any], project: str) -> dict[str, Any]:
    if value.get("external"):
        return {"external": True, "name": value.get("name", key)}
    network: dict[str, Any] = {"driver": value.get("driver") or "overlay"}
    if value.get("name") and value["name"] != f"{project}_{key}":
        network["name"] = value["name"]
    for extra in ("driver_opts", "attachable", "labels"):
        if value.get(extra):
            network[extra] = value[extra]
    return network


def _volume(key: str, value: Mapping[str, Any], project: str) -> dict[str, Any]:
    if value.get("external"):
        return {"external": True, "name": value.get("name", key)}
    volume: dict[str, Any] = {}
    if value.get("name") and value["name"] != f"{project}_{key}":
        volume["name"] = value["name"]
    for extra in ("driver", "driver_opts", "labels"):
        if value.get(extra):
            volume[extra] = value[extra]
    return volume
