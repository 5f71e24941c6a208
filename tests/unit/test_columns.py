"""reconciler/render/columns.py prints the status table exactly as rich did, or defers to rich."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.render.columns import aligned
from reconciler.render.status import _HEADER, _rich_table

_CELL = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
_ROWS = st.lists(st.tuples(*([_CELL] * len(_HEADER))), max_size=8)


def rich_prints(rows: Sequence[Sequence[str]]) -> str:
    """The oracle: rich itself, laid out as the status command asks it to."""
    return _rich_table(rows)


@settings(max_examples=150, deadline=None)
@given(_ROWS)
def test_plain_columns_are_what_rich_prints_or_none(rows: list[tuple[str, ...]]) -> None:
    plain = aligned(_HEADER, rows, 200)
    if plain is not None:
        assert plain == rich_prints(rows)


def test_a_typical_status_table_needs_no_rich() -> None:
    rows = [
        ("api", "p-api-1", "running", "healthy", "prod", "in sync"),
        ("db", "p-db-1", "exited", "-", "dev", "recreate (config changed; image changed)"),
        ("web", "-", "missing", "-", "-", "missing"),
    ]
    plain = aligned(_HEADER, rows, 200)
    assert plain is not None
    assert plain == rich_prints(rows)
    assert plain.splitlines()[0] == "SERVICE  CONTAINER  STATE    HEALTH   APP_ENV  STATUS"
    assert aligned(_HEADER, [], 200) == rich_prints([])


def test_what_rich_would_draw_differently_is_left_to_rich() -> None:
    wide = ("api", "p-api-1", "running", "-", "prod", "recreate (" + "x" * 200 + ")")
    assert aligned(_HEADER, [wide], 200) is None  # rich wraps the STATUS column
    assert aligned(_HEADER, [("[bold]api", "-", "-", "-", "-", "-")], 200) is None  # markup
    assert aligned(_HEADER, [("api", "-", "-", "-", "-", "in :sync:")], 200) is None  # emoji
    assert aligned(_HEADER, [("api", "-", "-", "-", "-", "naïve")], 200) is None  # not ASCII
