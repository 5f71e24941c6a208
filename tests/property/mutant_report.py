"""A pytest plugin for `just mutants` (tests/property/mutants.py): it writes, for the
property a mutant is run against, how each test ended, so the harness can tell an
assertion of that property (a catch) from a crash of the mutated code (a harness
error). Loaded with `-p tests.property.mutant_report`; writes where
RECONCILER_MUTANT_REPORT points, one JSON object per line."""

from __future__ import annotations

import json
import os
from collections.abc import Generator, Iterator
from typing import Any

import pytest

REPORT = "RECONCILER_MUTANT_REPORT"


def leaves(error: BaseException) -> Iterator[BaseException]:
    """The exceptions inside an exception group (hypothesis raises one when it found
    several distinct failures), or the exception itself."""
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            yield from leaves(inner)
    else:
        yield error


def _write(entry: dict[str, Any]) -> None:
    path = os.environ.get(REPORT)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(entry) + "\n")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    yield
    if call.excinfo is None:
        if call.when == "call":
            _write({"test": item.nodeid, "when": call.when, "errors": []})
        return
    error = call.excinfo.value
    found = [
        {
            "type": type(e).__name__,
            "assertion": isinstance(e, AssertionError),
            "message": str(e).splitlines()[:6],
            "notes": [line for note in getattr(e, "__notes__", []) for line in note.splitlines()],
        }
        for e in leaves(error)
    ]
    notes = [line for note in getattr(error, "__notes__", []) for line in note.splitlines()]
    _write({"test": item.nodeid, "when": call.when, "errors": found, "notes": notes})


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _write(
            {
                "test": report.nodeid,
                "when": "collect",
                "errors": [
                    {
                        "type": "CollectionError",
                        "assertion": False,
                        "message": str(report.longrepr).splitlines()[-3:],
                        "notes": [],
                    }
                ],
            }
        )
