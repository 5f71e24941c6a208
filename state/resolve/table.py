"""The environment table (environments.toml): frozen records, validated once per edit.

Resolve stage: what each APP_ENV means to Compose (files, profiles, variables). The
table is data; no code branches on an environment's name. It sits in Compose's project
directory, beside the compose files its `files` name (state/resolve/discovery.py finds
it); `description` is optional everywhere.

pydantic checks what the user wrote (state/resolve/table_schema.py, imported only
then); what it accepted is kept in a cache the caller hands in (TableCache:
reconciler/store/table_cache.py), keyed by the file's bytes and the schema, so an
unchanged table is rebuilt from its JSON without importing pydantic. The checks of the
files the table names run on every load: they are cheap, and those files change apart
from the table.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol, TypeVar

from state.backend import Backend
from state.errors import ConfigError
from state.resolve.guarding import ConfirmSpec, EngineSpec, PolicySpec

TABLE_FILE = "environments.toml"
# Part of every cache key, with the source of the modules that decide what a table may
# say (the schema, the guardrails' rule names, the backends): bump it when the records
# or their JSON form change shape, so no entry of the old shape is read back.
SCHEMA_VERSION = "1"
_SCHEMA_SOURCES = (
    Path(__file__).with_name("table_schema.py"),
    Path(__file__).with_name("guarding.py"),
    Path(__file__).parents[1] / "backend.py",
)


@dataclass(frozen=True, kw_only=True)
class Environment:
    """One row of the table: how Compose is called for this APP_ENV, and on what backend."""

    name: str
    description: str = ""
    files: tuple[str, ...]
    profiles: tuple[str, ...] = ()
    variables: dict[str, str] = field(default_factory=dict)
    backend: Backend = Backend.COMPOSE  # where it runs: local Compose, or a swarm
    engines: tuple[str, ...] = ()  # pinned: it runs only on these (state/resolve/guarding.py)
    notify: str = ""  # a command told each apply's outcome (reconciler/notify/hook.py)


@dataclass(frozen=True, kw_only=True)
class EnvironmentTable:
    """All environments, plus which one applies when APP_ENV is set nowhere."""

    default: str
    environments: dict[str, Environment]
    # service -> files whose content the service's containers depend on (a dependency
    # list baked into its image, say): an edit recreates them (state/model/content.py).
    content: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # The command that makes this project's images, named in the error when an image is
    # neither on the engine nor pullable nor buildable (state/model/desired.py).
    build_images: str = ""
    # Guardrails (state/resolve/guarding.py): engines, confirmations, policies.
    engines: dict[str, EngineSpec] = field(default_factory=dict)
    confirm: ConfirmSpec = field(default_factory=ConfirmSpec)
    policies: tuple[PolicySpec, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.environments)

    def __getitem__(self, name: str) -> Environment:
        return self.environments[name]


class TableCache(Protocol):
    """Where validated tables are kept between runs, by key (the caller's choice of
    place and policy); neither method raises: a miss or a failed write only costs time."""

    def read(self, key: str) -> Any:
        """The value written under `key`, or None."""

    def write(self, key: str, value: Any) -> None:
        """Keep `value` (JSON data) under `key`."""


def validated_table(raw: object, source: str = "the table") -> EnvironmentTable:
    """`raw` (a parsed environments.toml) validated by the schema, as records;
    ConfigError naming `source` and the first key at fault."""
    from state.resolve.table_schema import validated

    return table_from(validated(raw, source))


def table_from(data: Mapping[str, Any]) -> EnvironmentTable:
    """The records of a validated table's JSON form (the schema's, or the cache's)."""
    return EnvironmentTable(
        default=data["default"],
        environments={
            name: _record(Environment, row, backend=Backend(row["backend"]))
            for name, row in data["environments"].items()
        },
        content={service: tuple(names) for service, names in data["content"].items()},
        build_images=data["build_images"],
        engines={name: _record(EngineSpec, spec) for name, spec in data["engines"].items()},
        confirm=_record(ConfirmSpec, data["confirm"]),
        policies=tuple(_record(PolicySpec, policy) for policy in data["policies"]),
    )


Record = TypeVar("Record")


def _record(kind: type[Record], row: Mapping[str, Any], **typed: Any) -> Record:
    """A flat record from its JSON row: every list a tuple (no record field is a list)."""
    names = {f.name for f in fields(kind)}  # type: ignore[arg-type]
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in row.items() if k in names}
    return kind(**{**values, **typed})


def table_key(content: bytes) -> str:
    """The cache key of a table file's bytes: they and the schema that accepted them."""
    digest = hashlib.sha256()
    try:
        for source in _SCHEMA_SOURCES:
            digest.update(source.read_bytes())
    except OSError:  # no sources (bytecode only): keyed by the installed version instead
        digest.update(_installed_version().encode())
    schema = digest.hexdigest()
    head = f"reconcile environment-table {SCHEMA_VERSION} {schema}\n".encode()
    return hashlib.sha256(head + content).hexdigest()


def load_table(compose_dir: Path, cache: TableCache | None = None) -> EnvironmentTable:
    """Read `<compose_dir>/environments.toml`, validated (or as validated before, from
    `cache`); ConfigError if it is malformed or names a file that is not there."""
    path = compose_dir / TABLE_FILE
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{path} not found: run from the project directory or pass --project-directory"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path} cannot be read: {exc}; fix the file") from None
    key = table_key(content) if cache is not None else ""
    table = _kept(cache, key)
    if table is None:
        data = _validated(content, path)
        table = table_from(data)
        if cache is not None:
            with contextlib.suppress(Exception):  # a cache only saves time
                cache.write(key, data)
    for env in table.environments.values():
        for name in env.files:
            if not (compose_dir / name).is_file():
                missing = f"names {name!r}, which is not in {compose_dir}"
                raise ConfigError(
                    f"{path}: environment {env.name!r} {missing}: "
                    "create that file or fix the environment's `files`"
                )
    _check_content(table, compose_dir, path)
    return table


def _kept(cache: TableCache | None, key: str) -> EnvironmentTable | None:
    """The table kept under `key`, or None (no cache, no entry, or not of this shape)."""
    if cache is None:
        return None
    try:
        data = cache.read(key)
        return table_from(data) if isinstance(data, dict) else None
    except Exception:  # checksummed but not of this shape, or a failing cache: validate
        return None


def _validated(content: bytes, path: Path) -> dict[str, Any]:
    """The file parsed (as `read_text` decodes it) and checked: its JSON form."""
    import tomllib

    from state.resolve.table_schema import validated

    try:
        text = content.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
        raw = tomllib.loads(text)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path} cannot be read: {exc}; fix the file") from None
    return validated(raw, str(path))


def _check_content(table: EnvironmentTable, compose_dir: Path, path: Path) -> None:
    """Every file `[content]` declares exists (relative to the table's folder)."""
    for service, names in table.content.items():
        for name in names:
            if not (compose_dir / name).is_file():
                raise ConfigError(
                    f"{path}: content of service {service!r} names {name!r}, which is not a "
                    f"file in {compose_dir}: create that file or fix the `[content]` table"
                )


def _installed_version() -> str:
    """The installed tool's version: what keys the table cache when no source is there."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("spot-reconciler")
    except PackageNotFoundError:
        return "unknown"
