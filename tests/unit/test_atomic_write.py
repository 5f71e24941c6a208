"""The one atomic write (reconciler/store/atomic.py): old or new content after a failure,
exact modes, no symlink written through, no partial file left, writers never sharing."""

from __future__ import annotations

import multiprocessing
import os
import secrets
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.reads.content import write_override
from reconciler.store import atomic, journal, places
from reconciler.store.atomic import write_atomically


@pytest.fixture
def umask() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".partial"))


def test_it_writes_and_replaces_whole(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    write_atomically(target, "old")
    write_atomically(target, b"new \xe2\x9c\x93")
    assert target.read_text(encoding="utf-8") == "new \u2713"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.json"]


@pytest.mark.parametrize(
    ("failing", "fsync"),
    [("replace", False), ("replace", True), ("fsync", True), ("write", False), ("write", True)],
)
def test_a_crash_mid_write_leaves_the_old_content_and_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fsync: bool, failing: str
) -> None:
    target = tmp_path / "f.json"
    target.write_text("old")
    new = "new" * 10_000
    seen: list[str] = []

    def crash(*args: object) -> None:
        (partial,) = [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]
        seen.append(partial.read_text())
        raise OSError(5, "simulated crash")

    if failing == "replace":  # the temporary file is written whole, then the process dies
        monkeypatch.setattr(os, "replace", crash)
    elif failing == "fsync":
        monkeypatch.setattr(os, "fsync", crash)
    else:  # the write itself fails (a full disk): the descriptor is closed, then it raises

        def full_disk(fd: int, mode: str) -> None:
            os.close(fd)
            crash()

        monkeypatch.setattr(atomic, "open", full_disk, raising=False)
    with pytest.raises(OSError, match="simulated crash"):
        write_atomically(target, new, fsync=fsync, mode=0o600)
    assert target.read_text() == "old"
    assert leftovers(tmp_path) == []
    if failing == "replace":
        assert seen == [new]  # it did fail after the new content was on disk


def test_a_failed_first_write_leaves_no_file_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args: object) -> None:
        raise KeyboardInterrupt  # an interrupt cleans up as well as an error

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(tmp_path / "f.json", "new")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_directory_is_an_oserror_and_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_atomically(tmp_path / "no" / "f.json", "x")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("process_umask", "mode", "expected"),
    [
        (0o022, None, 0o644),  # what open() would make
        (0o077, None, 0o600),
        (0o000, 0o600, 0o600),  # exact, whatever the umask
        (0o077, 0o640, 0o640),
        (0o022, 0o400, 0o400),
    ],
)
def test_mode_bits(
    tmp_path: Path, umask: None, process_umask: int, mode: int | None, expected: int
) -> None:
    target = tmp_path / "f"
    target.write_text("old")
    target.chmod(0o666)  # the old file's mode is not kept: the new file's is set
    os.umask(process_umask)
    write_atomically(target, "new", mode=mode)
    assert stat.S_IMODE(target.stat().st_mode) == expected


def test_a_link_at_the_target_is_replaced_never_written_through(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious")
    target = tmp_path / "f.json"
    target.symlink_to(victim)
    write_atomically(target, "new", mode=0o600)
    assert not target.is_symlink() and target.read_text() == "new"
    assert victim.read_text() == "precious"


def test_a_file_planted_at_the_temporary_name_is_refused_not_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The callers' O_NOFOLLOW: a link (or a file) waiting at the partial name is never
    opened; the writer takes another name and leaves the planted one alone."""
    victim = tmp_path / "victim"
    victim.write_text("precious")
    tokens = iter(["planted1", "planted2", "fresh"])
    monkeypatch.setattr(secrets, "token_hex", lambda n: next(tokens))
    target = tmp_path / "f.json"
    link = tmp_path / f".f.json.{os.getpid()}.planted1.partial"
    link.symlink_to(victim)
    other = tmp_path / f".f.json.{os.getpid()}.planted2.partial"
    other.write_text("someone else's")
    write_atomically(target, "new")
    assert target.read_text() == "new" and victim.read_text() == "precious"
    assert link.is_symlink() and other.read_text() == "someone else's"
    assert leftovers(tmp_path) == sorted([link.name, other.name])


def test_the_temporary_name_is_unique_per_writer_and_stays_hidden(tmp_path: Path) -> None:
    names = {atomic.temporary_name(tmp_path / "plan.json") for _ in range(1000)}
    assert len(names) == 1000
    assert all(n.name.startswith(".plan.json.") and n.suffix == ".partial" for n in names)
    assert all(n.parent == tmp_path for n in names)


SIZE = 200_000


def _write_many(target: str, letter: str, times: int, failed: list[BaseException]) -> None:
    try:
        for _ in range(times):
            write_atomically(Path(target), letter * SIZE)
    except BaseException as exc:
        failed.append(exc)
        raise


@pytest.mark.parametrize("how", ["threads", "processes"])
def test_concurrent_writers_never_mix(tmp_path: Path, how: str) -> None:
    """Threads share a pid, so a per-pid partial name is not enough: each writer's own."""
    target = tmp_path / "f"
    write_atomically(target, "a" * SIZE)
    letters = "abcd"
    failed: list[BaseException] = []  # a thread's (a process's: its exit code)
    if how == "threads":
        workers: list[threading.Thread | multiprocessing.process.BaseProcess] = [
            threading.Thread(target=_write_many, args=(str(target), x, 40, failed)) for x in letters
        ]
    else:
        context = multiprocessing.get_context("fork")
        workers = [
            context.Process(target=_write_many, args=(str(target), x, 40, failed)) for x in letters
        ]
    for worker in workers:
        worker.start()
    reads = set()
    while any(worker.is_alive() for worker in workers):
        text = target.read_text()
        reads.add((len(text), frozenset(text)))
    for worker in workers:
        worker.join()
    assert failed == []
    if how == "processes":
        assert all(worker.exitcode == 0 for worker in workers)  # type: ignore[union-attr]
    assert all(size == SIZE and len(chars) == 1 for size, chars in reads), reads
    assert len(target.read_text()) == SIZE and leftovers(tmp_path) == []


def test_each_caller_keeps_its_mode_and_the_journal_its_fsyncs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, umask: None
) -> None:
    synced: list[int] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    monkeypatch.setenv(places.STATE_DIR_VARIABLE, str(tmp_path / "state"))
    path = journal.project_directory("spot") / "rollback.json"
    journal.write_record(path, "{}")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(synced) == 2  # file, directory
    override = write_override("services: {}\n", tmp_path / "cache")
    assert stat.S_IMODE(override.stat().st_mode) == 0o600 and len(synced) == 2  # a cache
