"""The content stage, between resolve and desire: record content digests as labels.

Asks Compose for the project's model once, digests the content files its services
use (state/model/content.py) and, when there are any, writes the override compose file that
labels each such service with them. The override is content-addressed (its name is
its digest) in the reconciler's cache directory, written whole then renamed into
place, so concurrent runs never see half a file or each other's; the project then
carries it as its last `-f` file, and every later Compose call (the desired state's
config hashes, `up`) sees the labels. Projects without content files are unchanged,
and those whose compose files cannot name one cost no Compose call here.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from pathlib import Path

from reconciler.execute.retry import retried
from reconciler.store.atomic import Kind, write_kept
from reconciler.store.places import CACHE_DIR_VARIABLE, content_directory, private_directory
from state.engine import ComposeSource
from state.errors import ConfigError
from state.model import content
from state.resolve.project import ComposeProject

_KEYS = re.compile(r"\b(configs|secrets|include|extends)\b")


def attach(project: ComposeProject, source: ComposeSource) -> ComposeProject:
    """The project with its content override, if its services use content files; the
    override is handed to `source` (the engine, or its cached view), so every later
    Compose call sees it.

    Files Compose cannot read are left to the desire stage to report (so `status` still
    shows what runs); a content file that cannot be read is a ConfigError here."""
    if not project.content_files and not _may_use_files(project):
        return project  # no Compose call: the plan's engine calls stay as they were
    try:
        model = retried(source.compose_model)  # the cache's answer when it has one
    except ConfigError:
        return project
    declared = {service: list(paths) for service, paths in project.content_files.items()}
    found = content.digests(model, project.directory, declared)
    if not found:
        return project
    path = write_override(content.override(found))
    source.use_content_override(path)
    return replace(project, content_override=path)


def _may_use_files(project: ComposeProject) -> bool:
    """Whether a compose file can bring in a config or secret file: it names `configs` or
    `secrets`, or pulls in other files (`include`, `extends`). Conservative: a false
    yes costs one `docker compose config`; a no is certain."""
    for path in project.files:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return True  # the desire stage reports it
        if _KEYS.search(text):
            return True
    return False


def write_override(text: str, directory: Path | None = None) -> Path:
    """`<content directory>/<sha256 of text>.yaml`, written atomically unless already there."""
    folder = directory or content_directory()
    path = folder / f"{hashlib.sha256(text.encode()).hexdigest()[:32]}.yaml"
    try:
        private_directory(
            folder,
            kind="cache directory",
            variable=CACHE_DIR_VARIABLE,
            threat="swap the file Compose reads",
            error=ConfigError,
        )
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            return path
        write_kept(path, text, Kind.CACHE)
    except OSError as exc:
        raise ConfigError(
            f"cannot write {path} ({exc.strerror}): "
            f"set {CACHE_DIR_VARIABLE} to a writable directory"
        ) from None
    return path
