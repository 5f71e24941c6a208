"""Small pure helpers of the Docker adapter (state/docker_engine.py): image
references and command lines. No I/O."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

BATCHES = 4  # concurrent `docker start` processes for one wave's containers


def batches(items: Sequence[str], count: int = BATCHES) -> list[list[str]]:
    """`items` dealt into at most `count` non-empty batches, in order within each."""
    dealt: list[list[str]] = [list(items[i::count]) for i in range(count)]
    return [batch for batch in dealt if batch]


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
