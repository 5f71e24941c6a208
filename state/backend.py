"""Backend names the two adapters a project runs on (local Compose, a swarm).

Its own module, free of pydantic, so the command line can offer `--backend` without
importing the engine port's records (state/engine.py re-exports it).
"""

from __future__ import annotations

import enum


class Backend(enum.StrEnum):
    """Where a project runs: local Compose, or a swarm (the environment table's `backend`)."""

    COMPOSE = "compose"
    SWARM = "swarm"
