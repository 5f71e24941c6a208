"""The Docker adapter's parse step: `docker container inspect` JSON -> ContainerRecord.

Part of the adapter (state/docker/adapter.py runs the command, this reads its output):
it reads the few keys planning needs, checks each one's type, ignores every other key,
and does no I/O, so the parse is tested on captured JSON (tests/fixtures/inspect/).
Plain code, no validator library: this runs on every read (`status`, every plan), and
a document of the wrong shape is an engine's fault, reported in one line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from state.engine import ContainerRecord, ContainerStatus
from state.errors import PermanentError


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
        if not isinstance(items, list):
            raise ValueError(f"a list of documents expected, got {type(items).__name__}")
        return [_record(item) for item in items]
    except ValueError as exc:
        raise PermanentError(f"unexpected `docker inspect` output: {exc}") from None


def _record(document: object) -> ContainerRecord:
    item = _mapping(document, "document")
    state = _mapping(item.get("State"), "State")
    config = _mapping(item.get("Config"), "Config")
    health = _optional_mapping(state.get("Health"), "State.Health")
    log = health.get("Log") if health is not None else None
    if log is not None and not isinstance(log, list):
        raise ValueError(f"State.Health.Log: a list expected, got {type(log).__name__}")
    last = _mapping(log[-1], "State.Health.Log entry") if log else None
    env = _strings(config.get("Env"), "Config.Env")
    return ContainerRecord(
        id=_text(item.get("Id"), "Id"),
        name=_text(item.get("Name"), "Name").lstrip("/"),
        labels=_labels(config.get("Labels")),
        status=_status(state.get("Status")),
        health=_text(health.get("Status"), "State.Health.Status") if health is not None else None,
        health_output=_text(last.get("Output", ""), "Output").strip() if last is not None else None,
        exit_code=_exit_code(state.get("ExitCode")),
        env=dict(entry.split("=", 1) for entry in env if "=" in entry),
        image_id=_text(item.get("Image"), "Image"),
        tty=config.get("Tty") is True,
    )


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: an object expected, got {type(value).__name__}")
    return value


def _optional_mapping(value: object, where: str) -> Mapping[str, Any] | None:
    return None if value is None else _mapping(value, where)


def _text(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where}: a string expected, got {type(value).__name__}")
    return value


def _strings(value: object, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where}: a list of strings expected")
    return value


def _labels(value: object) -> dict[str, str]:
    if value is None:
        return {}
    labels = _mapping(value, "Config.Labels")
    if not all(isinstance(v, str) for v in labels.values()):
        raise ValueError("Config.Labels: string values expected")
    return dict(labels)


def _status(value: object) -> ContainerStatus:
    try:
        return ContainerStatus(_text(value, "State.Status"))
    except ValueError:
        known = ", ".join(s.value for s in ContainerStatus)
        raise ValueError(f"State.Status {value!r} is none of {known}") from None


def _exit_code(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"State.ExitCode: an integer expected, got {type(value).__name__}")
    return value
