"""The apply's default time bounds (apply stage), apart from the modules that use them,
so the command line states them in its help without importing the apply path."""

from __future__ import annotations

WAIT_TIMEOUT = 120.0  # seconds for each wave to become healthy (--wait-timeout)
LOCK_TIMEOUT = 300.0  # seconds to wait for another reconcile of the project (--lock-timeout)
