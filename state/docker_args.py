"""Small pure helpers of the Docker adapter (state/docker_engine.py): image
references and command lines. No I/O."""

from __future__ import annotations

from typing import Any


def with_tag(reference: str) -> str:
    """`name` -> `name:latest`, as `docker image ls` shows an untagged reference."""
    last = reference.rsplit("/", 1)[-1]
    return reference if ":" in last else f"{reference}:latest"


def drop_flag(command: list[Any], flag: str) -> list[Any]:
    """`command` without every `flag VALUE` pair."""
    result: list[Any] = []
    skip = False
    for arg in command:
        if skip:
            skip = False
        elif arg == flag:
            skip = True
        else:
            result.append(arg)
    return result
