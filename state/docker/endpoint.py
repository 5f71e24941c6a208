"""Which Docker engine the `docker` CLI talks to, as a URL (read from the environment).

The docker CLI's own precedence: DOCKER_HOST, else the context named by DOCKER_CONTEXT
or by `currentContext` in the CLI's config.json, else the default socket. Used to key
the project lock by engine and to name the engine in error messages. No engine call.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

DEFAULT_HOST = "unix:///var/run/docker.sock"


def engine_endpoint(environ: Mapping[str, str] | None = None) -> str:
    """The engine's address, e.g. unix:///var/run/docker.sock or ssh://host."""
    env = os.environ if environ is None else environ
    if env.get("DOCKER_HOST"):
        return env["DOCKER_HOST"]
    config = Path(env.get("DOCKER_CONFIG") or Path(env.get("HOME") or "~").expanduser() / ".docker")
    context = env.get("DOCKER_CONTEXT") or _read_json(config / "config.json").get("currentContext")
    if not context or context == "default":
        return DEFAULT_HOST
    digest = hashlib.sha256(str(context).encode()).hexdigest()
    meta = _read_json(config / "contexts" / "meta" / digest / "meta.json")
    host = meta.get("Endpoints", {}).get("docker", {}).get("Host")
    return str(host) if host else f"docker context {context}"


def context_name(environ: Mapping[str, str] | None = None) -> str | None:
    """The docker context in use (DOCKER_CONTEXT, else config.json's), None with a
    DOCKER_HOST or the default context."""
    env = os.environ if environ is None else environ
    if env.get("DOCKER_HOST"):
        return None
    config = Path(env.get("DOCKER_CONFIG") or Path(env.get("HOME") or "~").expanduser() / ".docker")
    context = env.get("DOCKER_CONTEXT") or _read_json(config / "config.json").get("currentContext")
    return str(context) if context and context != "default" else None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
