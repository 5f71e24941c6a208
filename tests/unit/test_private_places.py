"""The tests keep their locks, journals and caches to themselves (tests/conftest.py):
the user's own directories are never where a test project's files go."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from reconciler.store import places
from tests.conftest import USERS_OWN


def test_every_directory_the_tool_uses_is_the_sessions_own() -> None:
    temporary = Path(tempfile.gettempdir()).resolve()
    for variable in places.DIRECTORY_VARIABLES:
        assert Path(os.environ[variable]).resolve().is_relative_to(temporary), variable
    used = {places.lock_directory(), places.state_directory(), places.cache_directory()}
    assert not used & set(USERS_OWN), "a test would write where the user keeps files"
    assert USERS_OWN, "the user's directories are watched (tests/conftest.py)"
