"""The project's name: the cheapest read of the resolve stage, no Compose call.

`--project-name`, else COMPOSE_PROJECT_NAME (the process environment, then the
project's .env, as Compose reads it), else the checkout directory's name normalised
the way compose-go's NormalizeProjectName does: lower-cased, only [a-z0-9_-] kept,
leading `_` and `-` dropped. Two checkouts in two directories are two stacks. An
explicit name must already be valid (compose-go refuses it otherwise): it must start
with a letter or digit and hold only [a-z0-9_-].
"""

from __future__ import annotations

import re

from state.errors import ConfigError
from state.resolve.inputs import ProjectInputs

VARIABLE = "COMPOSE_PROJECT_NAME"
_VALID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def normalise(raw: str) -> str:
    """compose-go's NormalizeProjectName: lower-case, keep [a-z0-9_-], trim leading _ and -."""
    return "".join(re.findall(r"[a-z0-9_-]", raw.lower())).lstrip("_-")


def project_name(inputs: ProjectInputs, *, explicit: str | None) -> str:
    """The project's name by precedence; ConfigError naming the fix when it is invalid."""
    if explicit:
        return _valid(explicit, "--project-name")
    binding = inputs.from_env_file(VARIABLE)
    from_env = inputs.environ.get(VARIABLE) or (binding.value if binding else None)
    if from_env:
        return _valid(from_env, VARIABLE)
    name = normalise(inputs.directory.name)
    if not name:
        raise ConfigError(
            f"no project name can be made from the directory name {inputs.directory.name!r}: "
            "pass --project-name NAME"
        )
    return name


def _valid(name: str, source: str) -> str:
    if not _VALID.match(name):
        raise ConfigError(
            f"{source} {name!r} is not a valid project name: use lower-case letters, digits, "
            "'-' and '_', starting with a letter or digit"
        )
    return name
