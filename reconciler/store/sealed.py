"""Sealed cache entries: JSON with a checksum of its name and content (store stage).

What the tool keeps only to go faster (reconciler/reads/config_cache.py: what Compose
answered; reconciler/store/table_cache.py: validated environment tables) is written
`sealed` and read back through `read_sealed`, which trusts an entry only when it is a
regular file of the user's alone (not a link, mode 0600 or tighter) whose checksum
matches: a truncated, edited or bit-flipped entry, or one copied under another key's
name, is a miss, never an answer.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
from pathlib import Path
from typing import Any


def sealed(name: str, value: Any) -> str:
    """An entry's text: a checksum line (of its file name and the JSON), then the JSON."""
    payload = json.dumps(value)
    return f"{_checksum(name, payload)}\n{payload}"


def unsealed(name: str, text: str) -> Any:
    """The value of an entry's text; ValueError when its checksum does not match (a
    truncated, edited or bit-flipped entry, or one copied under another key's name)."""
    checksum, _, payload = text.partition("\n")
    if not hmac.compare_digest(checksum, _checksum(name, payload)):
        raise ValueError(f"cache entry {name} is corrupted")
    return json.loads(payload)


def read_sealed(path: Path) -> Any:
    """The value of the entry at `path`, its use recorded (its mtime, which pruning
    reads); OSError when it is absent or not the user's alone, ValueError when it is
    corrupted."""
    with os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), encoding="utf-8") as stored:
        info = os.fstat(stored.fileno())
        if info.st_uid != os.geteuid() or info.st_mode & 0o077:
            raise PermissionError(f"cache entry {path} is not yours alone")
        value = unsealed(path.name, stored.read())
        with contextlib.suppress(OSError):
            os.utime(stored.fileno())  # used: kept by the pruning
        return value


def _checksum(name: str, payload: str) -> str:
    return hashlib.sha256(f"{name}\n{payload}".encode()).hexdigest()


def prune(directory: Path, pattern: str, keep: int, oldest: float | None = None) -> None:
    """Drop the entries matching `pattern` beyond the `keep` used last, and (`oldest`, a
    time) any last used before it. Reading an entry marks it used (read_sealed)."""
    try:
        entries = sorted(((p.stat().st_mtime, p) for p in directory.glob(pattern)), reverse=True)
    except OSError:
        return
    for index, (used, path) in enumerate(entries):
        if index >= keep or (oldest is not None and used < oldest):
            with contextlib.suppress(OSError):
                path.unlink()
