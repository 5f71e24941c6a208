"""How receipts read (reconciler/render/history.py): the list, one receipt, and JSON."""

from __future__ import annotations

import json
from typing import Any

from reconciler.render import history

RECEIPT: dict[str, Any] = {
    "kind": "reconcile-receipt",
    "at": "2026-12-02T12:18:20Z",
    "user": "ann",
    "host": "box",
    "command": "restart",
    "directory": "/srv/spot",
    "app_env": {"name": "dev", "source": "from .env:3"},
    "plan_digest": "sha256:abc",
    "seconds": 11.4,
    "result": "rolled back",
    "error": "rolled back: api (unhealthy)\nmore",
    "actions": [
        {
            "kind": "recreate",
            "container": "spot-api-1",
            "status": "rolled back",
            "seconds": 9.5,
            "reasons": ["APP_ENV prod -> dev"],
        }
    ],
    "unavailable": [
        {"service": "api", "seconds": 9.9, "until": "ready", "predicted": 5.5},
        {"service": "mail", "seconds": 0.4, "until": "removed", "predicted": None},
    ],
}


def test_the_list_says_who_what_and_the_longest_downtime() -> None:
    text = history.history_text("spot", [RECEIPT, {**RECEIPT, "unavailable": []}])
    first, second = text.splitlines()[2:]
    assert first.split()[:4] == ["1", "2026-12-02", "12:18:20", "ann@box"]
    assert "restart" in first and "dev" in first and "rolled back" in first
    assert first.endswith("api 9.9 s") and second.endswith("-")
    assert "no receipts yet" in history.history_text("spot", [])


def test_one_receipt_in_full_with_the_prediction_beside_the_measure() -> None:
    text = history.receipt_text("spot", 2, 5, {**RECEIPT, "unavailable": RECEIPT["unavailable"]})
    assert text.startswith("receipt 2 of 5 · project spot")
    assert "APP_ENV:   dev (from .env:3)" in text
    assert "error:     rolled back: api (unhealthy)" in text and "more" not in text
    assert "~ recreate  spot-api-1" in text and "rolled back" in text
    assert "api" in text and "9.9 s  until ready  (predicted ~5.5 s)" in text
    assert "0.4 s  until removed" in text
    assert "none: no running container was stopped" in history.receipt_text(
        "spot", 1, 1, {**RECEIPT, "unavailable": []}
    )


def test_json_numbers_the_receipts_newest_first() -> None:
    listed = json.loads(history.history_json("spot", [RECEIPT, RECEIPT]))
    assert [r["number"] for r in listed["receipts"]] == [1, 2]
    shown = json.loads(history.receipt_json("spot", 2, RECEIPT))
    assert (shown["command"], shown["receipt"]["number"]) == ("history show", 2)
