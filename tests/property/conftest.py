"""Property-test fixtures: the commands' project lock lives in a private directory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reconciler.store.places import LOCK_DIR_VARIABLE


@pytest.fixture(scope="session", autouse=True)
def private_lock_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The commands take real locks; keep them away from any real project's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(LOCK_DIR_VARIABLE, str(tmp_path_factory.mktemp("locks")))
        yield
