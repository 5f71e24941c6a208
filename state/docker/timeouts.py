"""How long one engine call may take: a bound per kind of call, set from the environment."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from state.errors import ConfigError

TIMEOUT_VARIABLE = "RECONCILE_ENGINE_TIMEOUT"
UNBOUNDED = math.inf  # only `logs --follow`, which the user ends


@dataclass(frozen=True)
class Timeouts:
    """How long an engine call may take: a read `read` seconds, a write more per item."""

    read: float = 30.0

    def write(self, items: int) -> float:
        """A write touching `items` services or containers (each may take a stop grace)."""
        return 4 * self.read + 15.0 * max(items, 1)

    @property
    def whole_project(self) -> float:
        return 10 * self.read

    def fetch(self, images: int) -> float:
        """A pull or a build of `images` images: minutes each."""
        return 40 * self.read * max(images, 1)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Timeouts:
        value = environ.get(TIMEOUT_VARIABLE, "").strip()
        if not value:
            return cls()
        try:
            seconds = float(value)
        except ValueError:
            seconds = 0.0
        if not seconds > 0:
            raise ConfigError(
                f"{TIMEOUT_VARIABLE}={value!r} is not a number of seconds: "
                "set it to a positive number, e.g. 30, or unset it"
            )
        return cls(read=seconds)
