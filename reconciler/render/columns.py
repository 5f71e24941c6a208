"""Plain aligned columns for the status table (render stage), without the terminal library.

Drawing the status table through rich (no box, no colour, 200 columns) costs more, in
import and layout, than the whole of `docker compose ps` (~0.2 s of CPU at 50
containers, growing with the rows). For the table it draws every day,
plain text that is character for character what rich prints is enough: each column
as wide as its widest cell, two spaces between columns, no padding at the edges, right
ends trimmed. Whatever rich would draw differently (a line wider than the width, where
it wraps the last column; text rich reads as markup `[...]` or emoji `:name:`; any
character that is not printable ASCII, whose width rich measures by cell) returns None,
and the caller lets rich draw it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_RICH_SYNTAX = re.compile(r"\[|:[^\s:]+:")
_GAP = "  "


def aligned(header: Sequence[str], rows: Sequence[Sequence[str]], width: int) -> str | None:
    """The table as rich prints it with box=None, pad_edge=False; None when it would differ."""
    cells = [list(header), *(list(row) for row in rows)]
    for row in cells:
        for cell in row:
            if not (cell.isascii() and cell.isprintable()) or _RICH_SYNTAX.search(cell):
                return None
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    if sum(widths) + len(_GAP) * (len(widths) - 1) > width:
        return None
    lines = (_GAP.join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells)
    return "\n".join(line.rstrip() for line in lines).rstrip()
