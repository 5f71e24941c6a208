"""Whose checkout a project's containers came from (plan stage, pure).

Compose names a project after its directory, so two checkouts with the same directory
name (~/work/spot and ~/review/spot) are one project `spot`: applying from the second
would replace the first one's containers with its own files, and `down --volumes`
would destroy its data. Compose records the project directory it used on each
container (`com.docker.compose.project.working_dir`); a container made from a directory
that is neither this checkout nor inside it belongs to another checkout, as long as
that directory still exists: one that is gone was a checkout since moved or deleted
(or a machine's leftover), which nobody else can still be using, so it is taken over as
Compose would. The only I/O is that one look at the directory, passed in for tests.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from state.model.observed import ObservedState


def _still_there(directory: str) -> bool:
    return Path(directory).is_dir()


def other_checkout(
    observed: ObservedState, checkout: Path, exists: Callable[[str], bool] = _still_there
) -> str | None:
    """The directory the project's containers were made from, when it is another
    checkout's that still exists (None: this one's, a vanished one, or none says)."""
    for container in observed.containers:
        made_in = container.working_dir
        if made_in and not Path(made_in).is_relative_to(checkout) and exists(made_in):
            return made_in
    return None


def taken_over_message(name: str, made_in: str, checkout: Path) -> str:
    return (
        f"project {name} runs from another checkout: its containers were made in "
        f"{made_in}, this checkout is {checkout}; applying here would replace them with "
        "this checkout's files (and `down --volumes` would destroy its data)"
    )
