"""A cache of what `docker compose config` says (desire stage), keyed by every input.

The model (`config --format json`), the config hashes (`--hash '*'`) and the services of
any profile depend only on what Compose reads: everything the adapter hands Compose (a
CacheableSource says it: every `-f` file and env file by path and bytes, profiles,
project name and directory, variables), every file under the project directory (by path,
size and mtime: what `env_file:`, `include:` and `extends:` name), the part of the
process environment Compose can read (compose_environment: every variable those files
name, COMPOSE_*, DOCKER_*, the tool's own settings, PATH; not OLDPWD, SHLVL or an
unrelated FOO, so a `cd` or a subshell still hits), and the `docker` and Compose
binaries (path, size, mtime; no extra subprocess). A digest of all of it names the
entry: any change is a miss, never a stale answer. A project whose compose files may
name a file outside the compose directory (a `../` path, or an absolute one in a file
that uses env_file, include or extends) is not cached: those files are not in the key;
nor is one whose directory holds more than TREE_LIMIT files (a project's data beside its
compose file). The image ids are not cached (images change without any file changing):
`image ls` always runs. What the source built for those inputs (python-on-whales'
command lines) is kept too, keyed also by the installed python-on-whales, so a hit does
not pay its import; so are a name-only engine's (stop, down, logs by name: warm_named),
keyed by the environment and the binaries alone.

Entries live in a directory only the user can use (`compose-cache` in the cache
directory, reconciler/store/places.py). The model holds the services' environment
values (passwords included) in clear, so each entry is written 0600 there, atomically,
and removed once unused for a week (prune). Each entry carries a checksum of its name and
content (sealed, reconciler/store/sealed.py): a corrupted one is read afresh from
Compose and rewritten, never trusted. RECONCILE_NO_CACHE=1 turns the cache off.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from reconciler.store.atomic import Kind, write_kept
from reconciler.store.places import (
    NO_CACHE_VARIABLE,
    caching_off,
    compose_cache_directory,
    private_cache,
)
from reconciler.store.sealed import prune as sealed_prune
from reconciler.store.sealed import read_sealed, sealed
from state.engine import CacheableSource, ComposeSource
from state.resolve.project import ComposeProject

DISABLE_VARIABLE = NO_CACHE_VARIABLE
_VERSION = "4"  # 3: entries carry a checksum (sealed); 4: the model validated first
_PLUGIN_DIRS = (
    "~/.docker/cli-plugins",
    "/usr/local/lib/docker/cli-plugins",
    "/usr/local/libexec/docker/cli-plugins",
    "/usr/lib/docker/cli-plugins",
    "/usr/libexec/docker/cli-plugins",
)
KEEP_DAYS = 7  # entries unused this long are removed (prune)
KEEP_ENTRIES = 300  # and at most this many files (three per key) are kept
TREE_LIMIT = 2000  # a project directory holding more files is not cached (its data, say)
_SKIPPED_DIRS = {".git", ".venv", "node_modules", "__pycache__"}
_PARENT_PATH = re.compile(r"(?:^|[\s\[,'\"=:])\.\./", re.MULTILINE)
_READS_FILES = re.compile(r"\b(?:env_file|include|extends)\b")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# In an env file: `$X`, `${X...}`, and the key of each line (`X` alone takes the shell's).
_ENV_FILE_NAME = re.compile(
    r"\$\{?([A-Za-z_][A-Za-z0-9_]*)|^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.-]*)",
    re.MULTILINE,
)
SCAN_LIMIT = 1 << 20  # a larger file in the key's scope keys the whole environment
_KEYED_PREFIXES = ("COMPOSE_", "DOCKER_", "BUILDX_", "BUILDKIT_", "RECONCILE_")
_ALWAYS_KEYED = frozenset({"APP_ENV", "PATH", "HOME"})
_ROOTED_PATH = re.compile(r"(?:^|[\s\[,'\"=:-])[/~]", re.MULTILINE)


def cached(project: ComposeProject, source: ComposeSource) -> ComposeSource:
    """`source` with its Compose reads cached, when it may be (a CacheableSource, outside
    nothing the key misses) and none disabled it. Consulted once per command: the view
    it returns is re-keyed, not rebuilt, when the content stage adds its override."""
    environ = os.environ
    if caching_off(environ) or not isinstance(source, CacheableSource):
        return source
    tree = _tree(project.compose_dir, limit=TREE_LIMIT)  # walked once: the checks and the key
    if tree is None or reads_outside(project, tree):
        return source
    threat = "replace what Compose answered"
    directory = private_cache(compose_cache_directory(environ), environ, threat)
    if directory is None:
        return source
    view = CachedSource(source, directory, inputs_digest(project, environ, source, tree))
    view.warm()
    return view


def inputs_digest(
    project: ComposeProject,
    environ: Mapping[str, str],
    source: CacheableSource,
    tree: Sequence[Path] | None = None,
) -> str:
    """A digest of everything Compose reads to answer `config` for this project (`tree`:
    the compose directory's files, if the caller walked it already)."""
    digest = hashlib.sha256(f"reconcile compose-cache {_VERSION}\n".encode())

    def add(*parts: object) -> None:
        digest.update(json.dumps([str(part) for part in parts]).encode() + b"\n")

    add("project", project.name, project.compose_dir, project.app_env.name, *project.profiles)
    add("options", *source.compose_inputs())  # what the adapter hands Compose, every -f
    for path in (*project.files, *project.env_files(), *source.compose_files()):
        add("file", path, _bytes_digest(path))
    walked = (_tree(project.compose_dir) or []) if tree is None else tree
    for path in walked:
        add("tree", *_stat(path))
    others = (*project.env_files(), *source.compose_files(), *walked)
    for key, value in sorted(compose_environment(environ, project.files, others).items()):
        add("env", key, value)
    for key, value in sorted(project.process_variables().items()):
        add("set", key, value)
    _add_programs(add, environ)
    return digest.hexdigest()


def warm_named(source: object) -> None:
    """A name-only engine (stop, down, restart, logs by name) handed the command lines
    python-on-whales built for the same environment before: it reads no project files
    there, only DOCKER_*, COMPOSE_*, PATH and the binaries, so those key the entry, and
    a hit saves its import (~80 ms of a command that runs one `docker stop`)."""
    environ = os.environ
    if caching_off(environ) or not isinstance(source, CacheableSource):
        return
    digest = hashlib.sha256(f"reconcile named-commands {_VERSION}\n".encode())

    def add(*parts: object) -> None:
        digest.update(json.dumps([str(part) for part in parts]).encode() + b"\n")

    add("options", *source.compose_inputs())
    for key, value in sorted(compose_environment(environ, (), ()).items()):
        add("env", key, value)
    _add_programs(add, environ)
    threat = "replace the docker command line"
    directory = private_cache(compose_cache_directory(environ), environ, threat)
    if directory is None:
        return
    view = CachedSource(source, directory, digest.hexdigest())
    view.warm()


def _on_path(program: str, path: str) -> Path | None:
    """Where `program` is on `path`, as shutil.which finds it (shutil would load its
    compressors, ~2.5 ms on every command)."""
    for directory in path.split(os.pathsep):
        candidate = Path(directory or ".") / program
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _add_programs(add: Callable[..., None], environ: Mapping[str, str]) -> None:
    """The docker binary, the Compose plugin and python-on-whales, by path, size, mtime."""
    docker = _on_path("docker", environ.get("PATH", os.defpath))
    config_dir = environ.get("DOCKER_CONFIG")
    plugin_dirs = ([f"{config_dir}/cli-plugins"] if config_dir else []) + list(_PLUGIN_DIRS)
    plugins = [Path(d).expanduser() / "docker-compose" for d in plugin_dirs]
    for binary in [docker] if docker else []:
        add("binary", *_stat(binary))
    for plugin in plugins:
        add("plugin", *_stat(plugin))
    whales = importlib.util.find_spec("python_on_whales")  # found, not imported
    add("python-on-whales", *_stat(Path(whales.origin)) if whales and whales.origin else "-")


def compose_environment(
    environ: Mapping[str, str], compose_files: Sequence[Path], other_files: Sequence[Path]
) -> dict[str, str]:
    """The part of the process environment Compose can read for these files: every
    variable a compose file names (`${X}`, `$X`, or bare: `X:` with no value under
    `environment:` copies it from the shell), every variable another file (an env file)
    references or lists as a key, COMPOSE_*, DOCKER_*, the tool's own settings
    (RECONCILE_*, APP_ENV) and PATH and HOME (where the binaries and the docker config
    are found). Not OLDPWD, SHLVL, `_` or anything else a shell sets. Conservative: a
    file too large to scan, or unreadable, keys the whole environment."""
    names: set[str] = set()
    pattern = {path: _NAME for path in compose_files}
    for path in other_files:
        pattern.setdefault(path, _NAME if path.suffix in (".yaml", ".yml") else _ENV_FILE_NAME)
    for path, found in pattern.items():
        try:
            if path.stat().st_size > SCAN_LIMIT:
                return dict(environ)
            text = path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            continue  # an absent file names nothing (its absence is keyed)
        except OSError:
            return dict(environ)
        names.update(name for match in found.findall(text) for name in _names(match))
    return {
        key: value
        for key, value in environ.items()
        if key in names or key in _ALWAYS_KEYED or key.startswith(_KEYED_PREFIXES)
    }


def _names(match: str | tuple[str, ...]) -> tuple[str, ...]:
    return (match,) if isinstance(match, str) else tuple(m for m in match if m)


def reads_outside(project: ComposeProject, tree: Sequence[Path]) -> bool:
    """Whether a compose file may make Compose read a file outside the compose directory
    (whose `tree` the key covers). Conservative: a false yes only costs the cache."""
    yaml = (p for p in tree if p.suffix in (".yaml", ".yml"))
    texts = dict.fromkeys([*project.files, *yaml])  # each file read once, in order
    for path in texts:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return True
        if _PARENT_PATH.search(text) or (_READS_FILES.search(text) and _ROOTED_PATH.search(text)):
            return True
    return False


def _bytes_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        return f"unreadable: {exc.errno}"


def _stat(path: Path) -> tuple[object, ...]:
    try:
        info = path.stat()
    except OSError:
        return (path, "absent")
    return (path, os.path.realpath(path), info.st_size, info.st_mtime_ns, info.st_ino)


def _tree(directory: Path, limit: int | None = None) -> list[Path] | None:
    """The files under `directory` (None: more than `limit`, too many to key on)."""
    found: list[Path] = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS)
        found.extend(Path(root) / name for name in sorted(files))
        if limit is not None and len(found) > limit:
            return None
    return found


class CachedSource:
    """A ComposeSource whose three `config` reads come from the cache when its key matches."""

    def __init__(self, source: CacheableSource, directory: Path, key: str) -> None:
        self._source = source
        self._directory = directory
        self._key = key
        self.concurrent_reads = getattr(source, "concurrent_reads", False)
        self.hits = 0

    def compose_model(self) -> dict[str, Any]:
        model: dict[str, Any] = self.entry("model", self._source.compose_model)
        remember = getattr(self._source, "remember_model", None)
        if remember is not None:  # the adapter's apply reads it instead of asking again
            remember(model)
        return model

    def config_hashes(self) -> dict[str, str]:
        hashes: dict[str, str] = self.entry("hashes", self._source.config_hashes)
        return hashes

    def service_names_in_any_profile(self) -> frozenset[str]:
        names = self.entry("services", lambda: sorted(self._source.service_names_in_any_profile()))
        return frozenset(names)

    def image_ids(self, references: Sequence[str]) -> dict[str, str]:
        return self._source.image_ids(references)

    def declared_profiles(self) -> frozenset[str]:
        return frozenset(self.entry("profiles", lambda: sorted(self._source.declared_profiles())))

    def use_content_override(self, path: Path) -> None:
        """The source reads with the override from now on; so does the key: the old key
        and the override's bytes (its name is its digest), no second walk of the tree."""
        self._source.use_content_override(path)
        self._key = hashlib.sha256(f"{self._key}\n{_bytes_digest(path)}".encode()).hexdigest()
        self.warm()

    def warm(self) -> None:
        """Hand the source what it built for these inputs before (its command lines)."""
        self._source.use_warm_state(self.entry("commands", self._source.warm_state))

    def entry(self, part: str, read: Callable[[], Any]) -> Any:
        path = self._directory / f"{self._key}.{part}.json"
        try:
            value = read_sealed(path)
        except (OSError, ValueError):
            pass  # absent, not the user's alone, or corrupted: read afresh, rewrite
        else:
            self.hits += 1
            return value
        value = read()
        self._store(path, value)
        return value

    def _store(self, path: Path, value: Any) -> None:
        try:
            write_kept(path, sealed(path.name, value), Kind.CACHE)
        except Exception:  # a cache that cannot be written is only a slower run
            return
        prune(self._directory)


def prune(directory: Path, now: float | None = None) -> None:
    """Drop entries unused for KEEP_DAYS, and the oldest beyond KEEP_ENTRIES: keys change
    with every input (a new shell's variables too), and entries hold secrets in clear."""
    oldest = (time.time() if now is None else now) - KEEP_DAYS * 86400
    sealed_prune(directory, "*.json", KEEP_ENTRIES, oldest)
