"""The project lock: private to its user, keyed by engine and project, errors in one line;
across real processes, a second run fails naming the holder and a killed holder never
blocks.

Cases that need another user (a directory or file of theirs, a directory we may not
write) act as uid 65534 through seteuid when the tests run as root, and are skipped
otherwise with that reason.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from reconciler.store.lock import LockBusy, LockUnusable, project_lock
from reconciler.store.places import LOCK_DIR_VARIABLE, lock_directory, lock_path
from state.docker.endpoint import DEFAULT_HOST, engine_endpoint

OTHER_UID = 65534  # nobody
ENGINE_A = "unix:///var/run/docker.sock"
ENGINE_B = "ssh://builder.example"
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="acting as another user needs root")


@pytest.fixture
def lock_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "locks"
    monkeypatch.setenv(LOCK_DIR_VARIABLE, str(directory))
    return directory


def test_the_same_project_on_two_engines_takes_two_locks(lock_dir: Path) -> None:
    assert lock_path("demo", ENGINE_A) != lock_path("demo", ENGINE_B)
    assert lock_path("demo", ENGINE_A) == lock_path("demo", ENGINE_A)
    with project_lock("demo", timeout=0, endpoint=ENGINE_A):
        with project_lock("demo", timeout=0, endpoint=ENGINE_B):
            pass
        with pytest.raises(LockBusy), project_lock("demo", timeout=0, endpoint=ENGINE_A):
            pass


def test_the_lock_is_keyed_by_the_engine_the_cli_would_use() -> None:
    assert engine_endpoint({"DOCKER_HOST": "tcp://10.0.0.9:2376"}) == "tcp://10.0.0.9:2376"
    assert engine_endpoint({"HOME": "/nonexistent"}) == DEFAULT_HOST


def test_a_named_docker_context_is_its_endpoint(tmp_path: Path) -> None:
    import hashlib
    import json

    meta = tmp_path / "contexts" / "meta" / hashlib.sha256(b"remote").hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(
        json.dumps({"Name": "remote", "Endpoints": {"docker": {"Host": "ssh://remote"}}})
    )
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "remote"}))
    assert engine_endpoint({"DOCKER_CONFIG": str(tmp_path)}) == "ssh://remote"
    assert engine_endpoint({"DOCKER_CONFIG": str(tmp_path), "DOCKER_CONTEXT": "default"}) == (
        DEFAULT_HOST
    )


def test_by_default_the_lock_lives_in_a_directory_only_the_user_can_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in (LOCK_DIR_VARIABLE, "XDG_RUNTIME_DIR", "XDG_STATE_HOME"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert lock_directory() == tmp_path / ".local/state/reconcile"
    with project_lock("demo", timeout=0, endpoint=ENGINE_A):
        info = lock_directory().stat()
        assert stat.S_IMODE(info.st_mode) == 0o700
        assert info.st_uid == os.geteuid()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    assert lock_directory() == tmp_path / "run" / "reconcile"


def test_a_directory_others_can_write_is_refused(lock_dir: Path) -> None:
    lock_dir.mkdir()
    lock_dir.chmod(0o1777)
    with pytest.raises(LockUnusable) as caught, project_lock("demo", 0, endpoint=ENGINE_A):
        pass
    assert str(caught.value) == (
        f"lock directory {lock_dir} is writable by others (mode 1777): run "
        f"`chmod go-w {lock_dir}` or set RECONCILE_LOCK_DIR to a directory only you can write"
    )


def test_a_link_in_place_of_the_lock_file_is_refused(lock_dir: Path, tmp_path: Path) -> None:
    lock_dir.mkdir(mode=0o700)
    target = tmp_path / "elsewhere"
    lock_path("demo", ENGINE_A).symlink_to(target)
    with (
        pytest.raises(LockUnusable, match="it is a symbolic link"),
        project_lock("demo", 0, endpoint=ENGINE_A),
    ):
        pass
    assert not target.exists()


def test_a_directory_that_cannot_be_created_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = Path(tempfile.mkdtemp()) / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(LOCK_DIR_VARIABLE, str(blocker / "locks"))
    try:
        with pytest.raises(LockUnusable) as caught, project_lock("demo", 0, endpoint=ENGINE_A):
            pass
    finally:
        shutil.rmtree(blocker.parent)
    message = str(caught.value)
    assert message.startswith(f"cannot create the lock directory {blocker / 'locks'}: ")
    assert message.endswith("set RECONCILE_LOCK_DIR to a directory only you can write")
    assert "\n" not in message


@contextmanager
def another_users_directory(mode: int) -> Iterator[Path]:
    """A directory owned by uid 65534 with `mode`, in a place that user can reach."""
    root = Path(tempfile.mkdtemp())
    root.chmod(0o755)
    directory = root / "locks"
    directory.mkdir()
    os.chown(directory, OTHER_UID, OTHER_UID)
    directory.chmod(mode)
    try:
        yield directory
    finally:
        shutil.rmtree(root)


@contextmanager
def acting_as(uid: int) -> Iterator[None]:
    os.seteuid(uid)
    try:
        yield
    finally:
        os.seteuid(0)


@as_root
def test_a_directory_of_another_user_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with another_users_directory(0o700) as directory:
        monkeypatch.setenv(LOCK_DIR_VARIABLE, str(directory))
        with (
            pytest.raises(LockUnusable, match=f"belongs to uid {OTHER_UID}, not to you"),
            project_lock("demo", 0, endpoint=ENGINE_A),
        ):
            pass
        assert list(directory.iterdir()) == []


@as_root
def test_a_lock_file_left_by_another_user_is_refused(lock_dir: Path) -> None:
    lock_dir.mkdir(mode=0o700)
    path = lock_path("demo", ENGINE_A)
    path.write_text("")
    os.chown(path, OTHER_UID, OTHER_UID)
    with pytest.raises(LockUnusable) as caught, project_lock("demo", 0, endpoint=ENGINE_A):
        pass
    assert str(caught.value) == (
        f"lock file {path} belongs to uid {OTHER_UID}, not to you: remove it if no "
        "reconcile is running, or set RECONCILE_LOCK_DIR to a directory only you can write"
    )


@as_root
def test_a_read_only_lock_directory_is_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with another_users_directory(0o500) as directory:
        monkeypatch.setenv(LOCK_DIR_VARIABLE, str(directory))
        with (
            acting_as(OTHER_UID),
            pytest.raises(LockUnusable) as caught,
            project_lock("demo", 0, endpoint=ENGINE_A),
        ):
            pass
    path = lock_path("demo", ENGINE_A, directory)
    assert str(caught.value) == (
        f"cannot open the lock file {path}: Permission denied; remove it if no reconcile "
        "is running, or set RECONCILE_LOCK_DIR to a directory only you can write"
    )


def _hold_lock(directory: str, ready: multiprocessing.synchronize.Event, seconds: float) -> None:
    os.environ["RECONCILE_LOCK_DIR"] = directory
    with project_lock("demo", timeout=1):
        ready.set()
        time.sleep(seconds)


def test_second_run_fails_naming_the_holder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECONCILE_LOCK_DIR", str(tmp_path))
    ready = multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold_lock, args=(str(tmp_path), ready, 5))
    holder.start()
    try:
        assert ready.wait(10)
        with (
            pytest.raises(
                LockBusy, match=rf"project demo \(pid {holder.pid}, started .*--lock-timeout"
            ),
            project_lock("demo", timeout=0.2),
        ):
            pass
    finally:
        holder.kill()
        holder.join()


def test_a_killed_holder_never_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECONCILE_LOCK_DIR", str(tmp_path))
    ready = multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold_lock, args=(str(tmp_path), ready, 60))
    holder.start()
    assert ready.wait(10)
    holder.kill()  # SIGKILL: no cleanup ran
    holder.join()
    with project_lock("demo", timeout=2):
        pass


@pytest.mark.parametrize("argv", [["stop", "--plan"], ["down", "--plan"], ["--plan"]])
def test_a_plan_never_waits_for_the_lock(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While an apply holds the project's lock, every --plan answers at once: with no
    wait allowed (--lock-timeout 0), one that took the lock would fail, exit 1."""
    from reconciler.cli.main import main
    from tests.builders import desired, service
    from tests.memory_engine import MemoryEngine

    monkeypatch.setenv(LOCK_DIR_VARIABLE, str(tmp_path / "locks"))
    engine = MemoryEngine(desired(service("db")))
    engine.add("db")
    repo = Path(__file__).resolve().parents[2]
    options = ["--project-directory", str(repo), "--project-name", "spot"]
    with project_lock("spot", 1):
        code = main([*argv, *options, "--lock-timeout", "0"], engine=lambda project: engine)
        applying = main([*options, "--lock-timeout", "0"], engine=lambda project: engine)
    assert code in (0, 2)
    assert applying == 1  # the apply itself does wait for the lock: it fails at once here
