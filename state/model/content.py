"""Content digests: the files a service uses whose content Compose does not hash.

Desire stage. Compose recreates a container when its configuration changes, not when
the content of a file it uses does (docker/compose#11900): a file under top-level
`configs:` or `secrets:` (`file:`) that the service references, or a file the
environment table's `[content]` declares for the service (a dependency list baked
into its image, say). Here: service -> {file: short sha256}, files named relative to
the project directory. Reading the files is the only I/O.

They reach the containers as one label per service, `io.reconcile.content` (JSON, file
-> digest), through a generated override compose file (reconciler/reads/content.py).
A label is part of the service's configuration, so Compose's own config hash changes
with the content; the planner compares the per-file digests (desired: the label in
Compose's model; observed: the container's label) only to name the changed FILE.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from state.errors import ConfigError

LABEL = "io.reconcile.content"
_SHORT = 16  # hex digits of sha256 kept: 64 bits, plenty to tell two versions apart
_REFERENCED = ("configs", "secrets")


def digests(
    model: Mapping[str, Any], project_dir: Path, declared: Mapping[str, Iterable[Path]]
) -> dict[str, dict[str, str]]:
    """Per service of `model` (Compose's resolved model), the digest of every content
    file it uses; services using none are left out. `declared`: service -> absolute
    paths (the environment table's `[content]`). ConfigError names a missing file."""
    services: Mapping[str, Any] = model.get("services") or {}
    found: dict[str, dict[str, str]] = {}
    for name, raw in sorted(services.items()):
        paths = [*_referenced(model, raw), *declared.get(name, ())]
        shown = [_shown(path, project_dir) for path in paths]
        files = {
            file: file_digest(path, file, name) for path, file in zip(paths, shown, strict=True)
        }
        if files:
            found[name] = dict(sorted(files.items()))
    return found


def _referenced(model: Mapping[str, Any], raw: Mapping[str, Any]) -> list[Path]:
    """The `file:` of each top-level config or secret the service references (configs
    from the engine, `external`, `environment` or `content` have no file: skipped)."""
    paths = []
    for kind in _REFERENCED:
        top: Mapping[str, Any] = model.get(kind) or {}
        for reference in raw.get(kind) or []:
            source = reference.get("source") if isinstance(reference, Mapping) else reference
            entry = top.get(str(source)) or {}
            if entry.get("file"):
                paths.append(Path(entry["file"]))
    return paths


def file_digest(path: Path, shown: str, service: str) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"{shown}, a file of service {service!r}, cannot be read ({exc.strerror}): "
            "create it or fix the reference to it"
        ) from None
    return hashlib.sha256(data).hexdigest()[:_SHORT]


def _shown(path: Path, project_dir: Path) -> str:
    """As a user names it: relative to the project directory when inside it."""
    resolved = path.resolve()
    return (
        str(resolved.relative_to(project_dir))
        if resolved.is_relative_to(project_dir)
        else str(path)
    )


def label_value(files: Mapping[str, str]) -> str:
    return json.dumps(dict(sorted(files.items())), separators=(",", ":"))


def recorded(labels: Mapping[str, str]) -> dict[str, str]:
    """The digests a label set records (a model's or a container's); {} when none or
    unreadable (then Compose's config hash alone decides, as without this feature)."""
    try:
        value = json.loads(labels.get(LABEL) or "{}")
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def override(found: Mapping[str, Mapping[str, str]]) -> str:
    """The override compose file recording `found`: JSON (which is YAML), `$` escaped
    so Compose's interpolation leaves the values alone."""
    services = {name: {"labels": {LABEL: label_value(files)}} for name, files in found.items()}
    text = json.dumps({"services": services}, indent=2, sort_keys=True)
    return text.replace("$", "$$") + "\n"
