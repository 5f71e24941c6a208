"""ObservedState.of: the per-service index behind a linear plan()."""

from __future__ import annotations

import json

from state.stored import as_json
from tests.builders import container, observed


def test_of_returns_each_services_containers_in_order() -> None:
    state = observed(container("db"), container("web", 1), container("web", 2))
    assert [c.number for c in state.of("web")] == [1, 2]
    assert [c.service for c in state.of("db")] == ["db"]
    assert state.of("missing") == ()


def test_the_index_changes_neither_equality_nor_serialisation() -> None:
    used, fresh = observed(container("db")), observed(container("db"))
    used.of("db")
    assert used == fresh
    assert as_json(used) == as_json(fresh)
    assert "_by_service" not in json.dumps(as_json(used))
