"""Where the swarm's manager answers: the variable that names it and the local swarm's
socket (`just swarm-up`). Its own module so that choosing a backend (reconciler/cli/
engines.py) does not load the manager's process machinery."""

from __future__ import annotations

MANAGER_VARIABLE = "SWARM_MANAGER_HOST"
DEFAULT_MANAGER = "unix:///run/spot-swarm/manager.sock"
