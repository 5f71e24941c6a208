"""Validated environment tables kept between runs (store stage, for the resolve stage).

state/resolve/table.py `load_table` validates a table with pydantic only when this
cache has no entry for its bytes (and the schema that checked them): a new or edited
table. Each entry is the table's JSON form, sealed (reconciler/store/sealed.py) and
written whole, 0600, in `tables/` of the cache directory (reconciler/store/places.py),
which must be the user's alone. A corrupted entry is a miss, validated afresh and
rewritten; RECONCILE_NO_CACHE=1 turns the cache off. Nothing here can fail a command:
an unusable directory or a failed write only means validating again next time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.store.atomic import Kind, write_kept
from reconciler.store.places import private_cache, table_cache_directory
from reconciler.store.sealed import prune as sealed_prune
from reconciler.store.sealed import read_sealed, sealed

KEEP_ENTRIES = 16  # the newest entries kept: one per version of each table in use


def table_cache(environ: Mapping[str, str] | None = None) -> TableCache | None:
    """The cache for this run's environment (None: turned off, or no private place)."""
    env = os.environ if environ is None else environ
    threat = "replace the environment table the tool reads"
    directory = private_cache(table_cache_directory(env), env, threat)
    return TableCache(directory) if directory is not None else None


class TableCache:
    """Sealed entries in one directory, by key (state/resolve/table.py's TableCache)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, key: str) -> Path:
        return self.directory / f"{key}.table.json"

    def read(self, key: str) -> Any:
        try:
            return read_sealed(self.path(key))
        except (OSError, ValueError):
            return None  # absent, not the user's alone, or corrupted: validate afresh

    def write(self, key: str, value: Any) -> None:
        path = self.path(key)
        try:
            write_kept(path, sealed(path.name, value), Kind.CACHE)
        except Exception:  # a cache that cannot be written is only a slower run
            return
        prune(self.directory)


def prune(directory: Path, keep: int = KEEP_ENTRIES) -> None:
    """Drop all but the `keep` entries used last: each edit of a table makes a new one."""
    sealed_prune(directory, "*.table.json", keep)
