"""The project's name: the cheapest read of the resolve stage, no Compose call.

Compose's precedence: `--project-name`, else COMPOSE_PROJECT_NAME (the process
environment, where an empty value counts as set and masks the env files, then the env
files), else the top-level `name:` of the compose files (the last file that sets one,
interpolated as Compose does, then normalised), else the project directory's name
normalised the way compose-go's NormalizeProjectName does: lower-cased, only [a-z0-9_-]
kept, leading `_` and `-` dropped. Two checkouts in two directories are two stacks
unless their files name them. An explicit name must already be valid (compose-go
refuses it otherwise): it must start with a letter or digit and hold only [a-z0-9_-].
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from state.errors import ConfigError
from state.resolve.inputs import ProjectInputs
from state.resolve.interpolate import TemplateError, substitute

VARIABLE = "COMPOSE_PROJECT_NAME"
_VALID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
# A top-level key sits at the start of a line in block YAML: `name: value  # comment`.
_NAME_LINE = re.compile(r"^name[ \t]*:(?:[ \t]+(.*?))?[ \t]*$", re.MULTILINE)
_PLAIN_END = re.compile(r"[ \t]+#.*$")


def normalise(raw: str) -> str:
    """compose-go's NormalizeProjectName: lower-case, keep [a-z0-9_-], trim leading _ and -."""
    return "".join(re.findall(r"[a-z0-9_-]", raw.lower())).lstrip("_-")


def project_name(
    inputs: ProjectInputs,
    *,
    explicit: str | None,
    files: Sequence[Path] = (),
    lookup: Callable[[str], str | None] | None = None,
) -> str:
    """The project's name by precedence; ConfigError naming the fix when it is invalid.

    `files`: the compose files whose top-level `name:` counts; `lookup`: the variables
    Compose interpolates it with (default: the process environment, then the env files)."""
    if explicit:
        return _valid(explicit, "--project-name")
    from_env = inputs.lookup(VARIABLE)
    if from_env:
        return _valid(from_env, VARIABLE)
    declared = declared_name(files, lookup or inputs.lookup)
    if declared is not None:
        return declared
    name = normalise(inputs.directory.name)
    if not name:
        raise ConfigError(
            f"no project name can be made from the directory name {inputs.directory.name!r}: "
            "pass --project-name NAME"
        )
    return name


def declared_name(files: Sequence[Path], lookup: Callable[[str], str | None]) -> str | None:
    """The top-level `name:` of the last file that sets one, interpolated and normalised
    (None: no file sets one)."""
    raw: tuple[Path, str] | None = None
    for path in files:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue  # Compose reports an unreadable file; the desire stage says so
        for match in _NAME_LINE.finditer(text):
            if match[1]:
                raw = (path, match[1])
    if raw is None:
        return None
    path, value = raw
    fix = "fix it, or pass --project-name NAME"
    try:
        name = normalise(substitute(_scalar(value, path), lookup))
    except TemplateError as exc:
        raise ConfigError(f"{path}: the top-level name has {exc}: {fix}") from None
    if not name:
        raise ConfigError(f"{path}: the top-level name makes an empty project name: {fix}")
    return name


def _scalar(value: str, path: Path) -> str:
    """A one-line YAML scalar: plain (a ` #` comment dropped), 'single' or "double" quoted."""
    if value.startswith("'"):
        end = re.match(r"'((?:[^']|'')*)'", value)
        if end:
            return end[1].replace("''", "'")
    elif value.startswith('"'):
        end = re.match(r'"((?:[^"\\]|\\.)*)"', value)
        if end:
            try:
                decoded: str = json.loads(f'"{end[1]}"')
                return decoded
            except ValueError:
                pass
    elif value[0] not in "&*!|>[{%@`":
        return _PLAIN_END.sub("", value)
    raise ConfigError(
        f"{path}: the top-level name {value!r} is not a plain one-line value: "
        "write it as `name: NAME`, or pass --project-name NAME"
    )


def _valid(name: str, source: str) -> str:
    if not _VALID.match(name):
        raise ConfigError(
            f"{source} {name!r} is not a valid project name: use lower-case letters, digits, "
            "'-' and '_', starting with a letter or digit"
        )
    return name
