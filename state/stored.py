"""The frozen records as JSON, and back: how the journal, receipts and saved plans store
the desired state and the plan (apply stage, at its end; rollback reads them back).

The records are plain dataclasses so a read (`status`, a plan) loads no validator.
Writing needs none either (`as_json`); reading a stored record back is reading input,
so `validated` hands it to pydantic (imported only then), which checks every field's
type and builds the same records.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any, TypeVar

T = TypeVar("T")

# A stored record's class says `__pydantic_config__ = STRICT`: read back, a key it does
# not have is refused, as for every other file the tool reads.
STRICT: Any = {"extra": "forbid"}


def as_json(value: object) -> Any:
    """`value` as JSON data: records as objects (fields in order), enums as their values,
    paths as strings, tuples as lists, sets as sorted lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: as_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(key): as_json(item) for key, item in value.items()}
    if isinstance(value, (frozenset, set)):
        return sorted(as_json(item) for item in value)
    if isinstance(value, (tuple, list)):
        return [as_json(item) for item in value]
    if isinstance(value, PurePath):
        return str(value)
    return value


def validated(kind: type[T], data: object) -> T:
    """`data` (JSON) as a `kind` record, every field checked; a ValueError (pydantic's
    ValidationError is one) says what does not fit."""
    from pydantic import TypeAdapter  # here: only reading a stored record pays for it

    return TypeAdapter(kind).validate_python(data)
