"""What a saved plan's fingerprint reads from the project's files (desire stage).

Digests of what the plan is computed from: the environment table, the compose files,
the env file Compose reads, and the variables the compose files reference as Compose
would see them (the process environment over the env file's values). Digests only: no
value leaves this module. Read only for saved plans (`--out`, `apply FILE`). The rest of the
fingerprint comes from the states (reconciler/store/saved_plans.py).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from reconciler.store.saved_plans import Inputs
from state.errors import ConfigError
from state.resolve.project import ComposeProject

_REFERENCE = re.compile(r"(?<!\$)\$\{?([A-Za-z_][A-Za-z0-9_]*)")


def inputs(project: ComposeProject) -> Inputs:
    """The digests of the project's files and of the variables its compose files use."""
    listed = [f for f in project.files if f != project.content_override]  # digests: Fingerprint
    table = (project.table_path,) if project.table_path else ()
    paths = (*table, *listed, *project.env_files())
    files: dict[str, str] = {}
    texts: list[str] = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror}; fix the file") from None
        files[_shown(path, project.directory)] = hashlib.sha256(data).hexdigest()
        if path in project.files:
            texts.append(data.decode("utf-8", errors="replace"))
    seen = {**project.env_values, **os.environ, **project.process_variables()}
    names = sorted({name for text in texts for name in _REFERENCE.findall(text)})
    variables = {name: _digest(name, seen.get(name)) for name in names}
    return Inputs(directory=str(project.directory), files=files, variables=variables)


def _shown(path: Path, directory: Path) -> str:
    return str(path.relative_to(directory)) if path.is_relative_to(directory) else str(path)


def _digest(name: str, value: str | None) -> str:
    if value is None:
        return "unset"
    return hashlib.sha256(f"{name}={value}".encode()).hexdigest()
