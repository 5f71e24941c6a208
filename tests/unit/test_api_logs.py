"""`reconcile logs` over the Engine API (state/docker/api_logs.py): Compose's format from
the raw answers (no Docker; tests/integration/test_logs.py holds it to Compose's own)."""

from __future__ import annotations

import struct
from collections.abc import Iterator

import pytest

from state.docker.api_logs import demultiplexed, lines_of, print_logs, short_name, shown
from state.engine import ContainerRecord, ContainerStatus


def frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(payload)) + payload


def record(
    service: str,
    number: int = 1,
    *,
    name: str | None = None,
    oneoff: bool = False,
    tty: bool = False,
) -> ContainerRecord:
    return ContainerRecord(
        id=f"id-{service}-{number}",
        name=name or f"proj-{service}-{number}",
        labels={
            "com.docker.compose.project": "proj",
            "com.docker.compose.service": service,
            "com.docker.compose.container-number": str(number),
            "com.docker.compose.oneoff": "True" if oneoff else "False",
        },
        status=ContainerStatus.RUNNING,
        env={},
        image_id="sha256:x",
        tty=tty,
    )


def test_stdout_and_stderr_come_together_in_their_order() -> None:
    body = frame(1, b"one\ntw") + frame(2, b"o\nthree\n") + frame(1, b"unfinished")
    assert demultiplexed(body) == b"one\ntwo\nthree\nunfinished"
    # A last line without its newline is left out, as Compose's line writer leaves it.
    assert lines_of(body, tty=False) == ["one", "two", "three"]
    assert lines_of(b"raw\r\nsecond\n", tty=True) == ["raw\r", "second"]


def test_compose_names_without_the_project_a_container_name_as_it_is() -> None:
    assert [short_name(c, "proj") for c in shown("proj", [record("api", 2)], [])] == ["api-2"]
    named = shown("proj", [record("db", name="my-database")], [])
    assert [short_name(c, "proj") for c in named] == ["my-database"]


def test_the_services_named_in_service_and_number_order_never_a_one_off() -> None:
    records = [
        record("web", 2),
        record("api"),
        record("web", 10),
        record("web", 1, oneoff=True, name="x"),
    ]
    assert [c.name for c in shown("proj", records, [])] == [
        "proj-api-1",
        "proj-web-2",
        "proj-web-10",
    ]
    assert [c.name for c in shown("proj", records, ["web"])] == ["proj-web-2", "proj-web-10"]


class FakeAPI:
    def __init__(self, bodies: dict[str, bytes]) -> None:
        self.answers = bodies
        self.asked: list[str] = []

    def bodies(
        self, *paths: str, what: str, bound: float, gone_ok: bool = False
    ) -> Iterator[tuple[str, bytes]]:
        self.asked += paths
        for path in paths:
            cid = path.split("/")[2]
            if cid in self.answers:  # a container gone since the list: no answer
                yield path, self.answers[cid]


def test_each_line_after_its_name_padded_to_the_longest_so_far(
    capsys: pytest.CaptureFixture[str],
) -> None:
    records = [record("a"), record("long-name"), record("quiet"), record("gone")]
    api = FakeAPI(
        {
            "id-a-1": frame(1, b"first\n"),
            "id-long-name-1": frame(2, b"x\ny\n"),
            "id-quiet-1": b"",
        }
    )
    code = print_logs(api, records, "proj", [], tail="5", bound=1.0)  # type: ignore[arg-type]
    assert code == 0
    assert capsys.readouterr().out == ("a-1  | first\nlong-name-1  | x\nlong-name-1  | y\n")
    assert all("stdout=1&stderr=1&tail=5" in path for path in api.asked)
