"""The environment table against what Compose says (desire stage): names that match
nothing are typos, and a typo is an error, not a silent no-op.

A `[content]` key that no compose file defines as a service (its drift would never be
detected), or a profile of the environment that no service has (the environment would
quietly run without it): one line naming the table, the key and the closest valid
name. Pure: it looks at what Compose answered, nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable

from state.errors import ConfigError
from state.model.desired import DesiredState
from state.resolve.project import ComposeProject
from state.resolve.table import TABLE_FILE


def check_table(project: ComposeProject, desired: DesiredState, declared: frozenset[str]) -> None:
    """ConfigError for the first name in the table that matches nothing Compose has
    (`declared`: the profiles some service has, `docker compose config --profiles`)."""
    if project.table is None:  # no table: Compose's own profiles, nothing of ours to check
        return
    table = project.table_path or project.compose_dir / TABLE_FILE
    for service in sorted(project.table.content):
        if service not in desired.known_services:
            raise ConfigError(
                f"{table}: [content] names service {service!r}, which no compose file "
                f"defines{_closest(service, desired.known_services)}: fix the key"
            )
    for profile in project.profiles:
        if profile not in declared:
            raise ConfigError(
                f"{table}: environments.{project.app_env.name}.profiles names {profile!r}, "
                f"which no service has{_closest(profile, declared)}: "
                "fix the profile, or give a service that profile"
            )


def _closest(name: str, candidates: Iterable[str]) -> str:
    import difflib  # here: only a refusal suggests a name

    close = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
