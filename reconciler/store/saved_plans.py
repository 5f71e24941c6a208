"""Saved plans: `reconcile --plan --out FILE`, then `reconcile apply FILE` (store stage).

A saved plan is the plan plus a fingerprint of everything it was computed from: the
project (name and directory), APP_ENV and its source, the backend, sha256 digests of
the files Compose reads (environment table, compose files, env file), digests of the
variables that reach interpolation as Compose sees them (never their values), the
image each service wants, each wanted service's config hash as Compose computes it
over the resolved model (what env_file, include, extends and `$$` bring in, whatever
nobody listed), the digest of each content file (state/model/content.py), and each
container's id, state, config hash and image. `apply FILE` plans afresh under the lock,
as Terraform applies a saved plan: when a fresh plan's actions differ from the saved
ones in any action (kind, container, target config hash, image), or anything in the
fingerprint changed, it refuses, naming what differs (the fingerprint names causes).

The file is versioned JSON (`schema_version`); a file of another version, kind or
shape is refused with one line. `read_saved` and `write_saved` are the file's I/O; the
digests of the project's files come from reconciler/reads/fingerprint.py.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from reconciler.planner.plan import Action, Plan, Strategy
from reconciler.planner.snapshot import Snapshot
from reconciler.store.atomic import Kind, write_kept
from state.errors import ConfigError, ReconcilerError, where_and_why

SCHEMA_VERSION: Literal[2] = 2  # 2: config_hashes and backend in the fingerprint
KIND: Literal["reconcile-saved-plan"] = "reconcile-saved-plan"


class StalePlan(ReconcilerError):
    """The world changed since the plan was saved; applying it would be a guess."""


class ContainerPrint(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    name: str
    status: str
    config_hash: str | None
    image_id: str


class Inputs(BaseModel):
    """What the project's files and environment gave: digests only."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    directory: str
    files: dict[str, str]  # path relative to the project directory -> sha256
    variables: dict[str, str]  # name -> sha256 of "name=value", or "unset"


class Fingerprint(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    project: str
    directory: str
    app_env: str
    app_env_source: str
    backend: str
    files: dict[str, str]
    variables: dict[str, str]
    images: dict[str, str | None]  # service -> the image id it wants
    config_hashes: dict[str, str]  # service -> its config hash, as Compose computes it
    content: dict[str, str] = {}  # content file -> digest (state/model/content.py)
    containers: dict[str, ContainerPrint]  # container id -> what it was


class SavedPlan(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    schema_version: Literal[2] = SCHEMA_VERSION
    kind: Literal["reconcile-saved-plan"] = KIND
    strategy: Strategy
    fingerprint: Fingerprint
    plan: Plan


def fingerprint(snap: Snapshot, inputs: Inputs, backend: str) -> Fingerprint:
    desired = snap.desired
    return Fingerprint(
        project=desired.project,
        directory=inputs.directory,
        app_env=desired.app_env.name,
        app_env_source=desired.app_env.describe_source(),
        backend=backend,
        files=inputs.files,
        variables=inputs.variables,
        images={name: s.image_id for name, s in sorted(desired.services.items())},
        config_hashes={name: s.config_hash for name, s in sorted(desired.services.items())},
        content=dict(
            sorted({f: d for s in desired.services.values() for f, d in s.content.items()}.items())
        ),
        containers={
            c.id: ContainerPrint(
                name=c.name, status=c.status.value, config_hash=c.config_hash, image_id=c.image_id
            )
            for c in snap.observed.containers
        },
    )


def save(snap: Snapshot, inputs: Inputs, strategy: Strategy, backend: str) -> str:
    saved = SavedPlan(
        strategy=strategy, fingerprint=fingerprint(snap, inputs, backend), plan=snap.plan
    )
    return saved.model_dump_json(indent=2) + "\n"


def load(text: str, where: str) -> SavedPlan:
    """Parse a saved plan; ConfigError with one line when it is not one this tool reads."""
    try:
        raw = json.loads(text)
    except ValueError:
        raise ConfigError(
            f"{where} is not JSON: pass a file written by `reconcile --plan --out`"
        ) from None
    if not isinstance(raw, dict) or raw.get("kind") != KIND:
        raise ConfigError(f"{where} is not a saved plan: make one with `reconcile --plan --out`")
    if raw.get("schema_version") != SCHEMA_VERSION:
        raise ConfigError(
            f"{where} has schema_version {raw.get('schema_version')!r}, this reconcile reads "
            f"{SCHEMA_VERSION}: make a new plan with `reconcile --plan --out`"
        )
    try:
        return SavedPlan.model_validate(raw)
    except ValidationError as exc:
        at, why = where_and_why(exc.errors())
        raise ConfigError(f"{where} is malformed at {at}: {why}; make a new plan") from None


def foreign(saved: Fingerprint, now: Fingerprint) -> str | None:
    """Why a plan file belongs to another project or directory (None: it is ours)."""
    if (saved.project, saved.directory) == (now.project, now.directory):
        return None
    return (
        f"the plan is for project {saved.project} in {saved.directory}, not project "
        f"{now.project} in {now.directory}: make a plan there, or pass its "
        "--project-name/--project-directory"
    )


def changes(saved: Fingerprint, now: Fingerprint) -> list[str]:
    """What differs between the fingerprint saved and the one now, one phrase each."""
    lines: list[str] = []
    if (saved.app_env, saved.app_env_source) != (now.app_env, now.app_env_source):
        lines.append(
            f"APP_ENV: {saved.app_env} ({saved.app_env_source}) -> "
            f"{now.app_env} ({now.app_env_source})"
        )
    if saved.backend != now.backend:
        lines.append(f"backend: {saved.backend} -> {now.backend}")
    lines += _keyed(saved.files, now.files, "{} changed", "{} appeared", "{} is gone")
    lines += _keyed(
        saved.content,
        now.content,
        "content of {} changed",
        "content file {} is now used",
        "content file {} is no longer used",
    )
    lines += _keyed(
        saved.variables,
        now.variables,
        "variable {} changed",
        "variable {} is now used",
        "variable {} is no longer used",
    )
    lines += _keyed(
        saved.images,
        now.images,
        "the image of service {} changed",
        "service {} is now wanted",
        "service {} is no longer wanted",
    )
    if not lines:  # the catch-all: what no input above explains (env_file, include, ...)
        wanted = saved.images.keys() & now.images.keys()
        lines += [
            f"the configuration of service {name} changed (as Compose resolves it)"
            for name in sorted(wanted)
            if saved.config_hashes.get(name) != now.config_hashes.get(name)
        ]
    return lines + _containers(saved.containers, now.containers)


def _keyed(
    saved: Mapping[str, object], now: Mapping[str, object], changed: str, added: str, gone: str
) -> list[str]:
    lines = []
    for key in sorted(saved.keys() | now.keys()):
        if key not in now:
            lines.append(gone.format(key))
        elif key not in saved:
            lines.append(added.format(key))
        elif saved[key] != now[key]:
            lines.append(changed.format(key))
    return lines


def _containers(
    saved: Mapping[str, ContainerPrint], now: Mapping[str, ContainerPrint]
) -> list[str]:
    """Per container (by id): changed in place, gone, appeared; a name whose container
    is gone while another of that name appeared was replaced (recreated)."""
    lines: list[tuple[str, str]] = []
    gone = {cid: saved[cid].name for cid in saved.keys() - now.keys()}
    new = {cid: now[cid].name for cid in now.keys() - saved.keys()}
    for cid in sorted(saved.keys() & now.keys()):
        was, is_ = saved[cid], now[cid]
        if was.name != is_.name:
            lines.append((was.name, f"container {was.name} was renamed to {is_.name}"))
        if was.status != is_.status:
            lines.append(
                (was.name, f"container {was.name} changed state: {was.status} -> {is_.status}")
            )
        if was.config_hash != is_.config_hash:
            lines.append((was.name, f"container {was.name} changed config hash"))
        if was.image_id != is_.image_id:
            lines.append((was.name, f"container {was.name} changed image"))
    for cid, name in sorted(gone.items()):
        twins = [twin for twin, other in new.items() if other == name]
        if len(twins) == 1 and list(gone.values()).count(name) == 1:
            lines.append(
                (name, f"container {name} was replaced (id {cid[:12]} -> {twins[0][:12]})")
            )
            del new[twins[0]]
        else:
            lines.append((name, f"container {name} (id {cid[:12]}) is gone"))
    lines += [(name, f"container {name} (id {cid[:12]}) appeared") for cid, name in new.items()]
    return [line for _, line in sorted(lines)]


def _key(action: Action) -> tuple[object, ...]:
    """What an action does, whatever its wave or wording: kind, container, target."""
    target = action.container_id if action.container_id else f"#{action.number}"
    return (action.kind, action.service, target, action.new_hash, action.new_image)


def _described(action: Action) -> str:
    return f"{action.kind.value} {action.container or f'{action.service} #{action.number}'}"


def differences(saved: Plan, fresh: Plan) -> list[str]:
    """How the saved plan's actions differ from a fresh plan's, one phrase each (empty:
    the same actions, each the same kind on the same container to the same target)."""
    wanted = Counter(_key(a) for a in fresh.actions)
    had = Counter(_key(a) for a in saved.actions)
    shown = {_key(a): _described(a) for a in (*saved.actions, *fresh.actions)}
    lines = [
        f"it would {shown[k]}, which a fresh plan does not" for k in sorted(had - wanted, key=str)
    ]
    lines += [
        f"a fresh plan would {shown[k]}, which it does not" for k in sorted(wanted - had, key=str)
    ]
    return lines


def check(saved: SavedPlan, now: Fingerprint, fresh: Plan) -> None:
    """Refuse a plan of another project (ConfigError), or one whose world changed or whose
    actions a fresh plan would not take (StalePlan)."""
    other = foreign(saved.fingerprint, now)
    if other:
        raise ConfigError(other)
    changed = changes(saved.fingerprint, now) + differences(saved.plan, fresh)
    if changed:
        raise StalePlan(
            f"the saved plan is stale: {'; '.join(changed)}; nothing was changed: "
            "make a new plan with `reconcile --plan --out FILE`"
        )


def read_saved(path: Path) -> SavedPlan:
    """The plan file `reconcile --plan --out` wrote; ConfigError when unreadable or not one."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ConfigError(
            f"cannot read plan file {path}: {reason}; pass the file `reconcile --plan --out` wrote"
        ) from None
    return load(text, str(path))


def write_saved(
    path: Path, snap: Snapshot, inputs: Inputs, strategy: Strategy, backend: str
) -> None:
    """Save the plan with its fingerprint (written whole, then renamed into place)."""
    try:
        write_kept(path, save(snap, inputs, strategy, backend), Kind.USER_FILE)
    except OSError as exc:
        raise ConfigError(
            f"cannot write plan file {path}: {exc.strerror}; pass a writable --out path"
        ) from None
