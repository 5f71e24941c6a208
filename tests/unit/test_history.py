"""The history's store (reconciler/store/history.py): append-only, private, bounded, and
never broken by a torn line or by two writers at once."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
from pathlib import Path

import pytest

from reconciler.store import history, places
from state import secrets


@pytest.fixture(autouse=True)
def private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(places.STATE_DIR_VARIABLE, str(tmp_path / "state"))


def test_receipts_come_back_newest_first_from_a_private_append_only_file() -> None:
    for n in range(3):
        history.append("spot", {"n": n})
    assert [r["n"] for r in history.receipts("spot")] == [2, 1, 0]
    path = history.history_path("spot")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert len(path.read_text().splitlines()) == 3
    assert history.receipts("other") == []


def test_a_torn_last_line_is_skipped_and_the_next_receipt_starts_on_its_own_line() -> None:
    history.append("spot", {"n": 1})
    path = history.history_path("spot")
    with path.open("a") as out:  # what a SIGKILL in the middle of a write leaves
        out.write('{"kind": "reconcile-receipt", "n": 2, "act')
    assert [r["n"] for r in history.receipts("spot")] == [1]
    history.append("spot", {"n": 3})
    assert [r["n"] for r in history.receipts("spot")] == [3, 1]
    assert path.read_text().endswith('"n": 3}\n')


def test_lines_that_are_not_receipts_are_skipped() -> None:
    path = history.history_path("spot")
    history.append("spot", {"n": 1})
    with path.open("a") as out:
        out.write('[1, 2]\n{"kind": "else"}\n\x00\xff garbage\n')
    history.append("spot", {"n": 2})
    assert [r["n"] for r in history.receipts("spot")] == [2, 1]


def test_the_file_is_bounded_old_receipts_rotate_out() -> None:
    for n in range(60):
        history.append("spot", {"n": n, "pad": "x" * 80}, max_bytes=2_000)
    path = history.history_path("spot")
    rotated = path.with_name(history.ROTATED)
    assert path.stat().st_size <= 2_000 and rotated.stat().st_size <= 2_000
    assert stat.S_IMODE(rotated.stat().st_mode) == 0o600
    kept = [r["n"] for r in history.receipts("spot")]
    assert kept == list(range(59, 59 - len(kept), -1))  # the newest, in order, no gap
    assert 10 < len(kept) < 60


def test_secret_values_never_reach_the_file() -> None:
    secrets.forget_all()
    secrets.remember({"DB_PASSWORD": "hunter2-very-secret"})
    try:
        history.append("spot", {"error": "login failed for hunter2-very-secret"})
    finally:
        secrets.forget_all()
    text = history.history_path("spot").read_text()
    assert "hunter2" not in text and secrets.MASK in text


def test_a_link_planted_at_the_file_is_not_followed(tmp_path: Path) -> None:
    path = history.history_path("spot")
    path.parent.mkdir(parents=True, mode=0o700)
    target = tmp_path / "elsewhere"
    target.write_text("")
    path.symlink_to(target)
    with pytest.raises(OSError):
        history.append("spot", {"n": 1})
    assert target.read_text() == ""


def _writer(state: str, tag: str, count: int, max_bytes: int) -> None:
    os.environ[places.STATE_DIR_VARIABLE] = state
    for n in range(count):
        history.append("spot", {"writer": tag, "n": n, "pad": "y" * 200}, max_bytes=max_bytes)


@pytest.mark.parametrize("max_bytes", [history.MAX_BYTES, 20_000])
def test_two_processes_appending_at_once_never_interleave(tmp_path: Path, max_bytes: int) -> None:
    state = str(tmp_path / "state")
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=_writer, args=(state, tag, 150, max_bytes)) for tag in "ab"]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
        assert writer.exitcode == 0
    path = history.history_path("spot")  # the fixture's state directory, as the writers'
    assert str(path).startswith(state)
    rotated = path.with_name(history.ROTATED)
    lines = rotated.read_text().splitlines() if rotated.exists() else []
    lines += path.read_text().splitlines()
    parsed = [json.loads(line) for line in lines]  # every line whole: none torn or mixed
    for tag in "ab":  # each writer's receipts in its own order
        mine = [r["n"] for r in parsed if r["writer"] == tag]
        assert mine == sorted(mine)
    if max_bytes == history.MAX_BYTES:
        assert len(parsed) == 300
    else:
        assert path.stat().st_size <= max_bytes and rotated.exists()
