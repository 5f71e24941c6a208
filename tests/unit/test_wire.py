"""The Engine API's HTTP on a Unix socket (state/docker/wire.py) and how EngineAPI maps
what goes wrong to the CLI path's errors, against a canned server (no engine needed)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from state.docker.api import EngineAPI
from state.docker.wire import BadAnswer, Connection
from state.errors import EngineTimeout, PermanentError, TransientError


class Canned:
    """A server on a Unix socket answering the n-th request with the n-th answer
    (None: close the connection instead), then holding the connection open (`hold`)
    or closing it."""

    def __init__(self, path: Path, answers: list[bytes | None], hold: bool) -> None:
        self.path, self.answers, self.hold = path, answers, hold
        self.requests: list[bytes] = []
        self._server = socket.socket(socket.AF_UNIX)
        self._server.bind(str(path))
        self._server.listen(4)
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        client, _ = self._server.accept()
        with client:
            for answer in self.answers:
                request = b""
                while not request.endswith(b"\r\n\r\n"):
                    chunk = client.recv(4096)
                    if not chunk:
                        return
                    request += chunk
                self.requests.append(request)
                if answer is None:
                    return
                client.sendall(answer)
            if self.hold:
                threading.Event().wait(5)

    def close(self) -> None:
        self._server.close()


Serve = Callable[..., Canned]  # serve(*answers, hold=True): a Canned server, started


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    servers: list[Canned] = []

    def start(*answers: bytes | None, hold: bool = True) -> Canned:
        servers.append(Canned(tmp_path / f"engine{len(servers)}.sock", list(answers), hold))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def sized(body: bytes, status: str = "200 OK") -> bytes:
    return f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body


CHUNKED = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5\r\n[1, 2\r\n3;ext=1\r\n, 3\r\n1\r\n]\r\n0\r\nX-Trailer: yes\r\n\r\n"
)


def test_sized_and_chunked_answers_share_one_connection(serve: Serve) -> None:
    server = serve(sized(b'{"a": 1}'), CHUNKED, sized(b'{"message": "gone"}', "404 Not Found"))
    connection = Connection(str(server.path), timeout=5)
    try:
        assert connection.get("/v1.41/info") == (200, b'{"a": 1}')
        assert connection.get("/containers/json") == (200, b"[1, 2, 3]")
        assert connection.get("/containers/x/json") == (404, b'{"message": "gone"}')
    finally:
        connection.close()
    assert server.requests[0].startswith(b"GET /v1.41/info HTTP/1.1\r\nHost: docker\r\n")


@pytest.mark.parametrize(
    ("answer", "hold", "named"),
    [
        # cut short: a bad answer, never a short body taken for the whole
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n[1, 2", False, "mid-answer"),
        (b"SSH-2.0-OpenSSH\r\n\r\n", True, "not an HTTP answer"),
    ],
)
def test_a_bad_answer_is_named(serve: Serve, answer: bytes, hold: bool, named: str) -> None:
    server = serve(answer, hold=hold)
    connection = Connection(str(server.path), timeout=5)
    try:
        with pytest.raises(BadAnswer, match=named):
            connection.get("/containers/json")
    finally:
        connection.close()


def api(path: Path) -> EngineAPI:
    return EngineAPI(str(path), lambda what, limit: f"{what} gave no answer in {limit:g} s")


def test_engine_api_maps_each_failure_to_the_cli_paths_error(serve: Serve, tmp_path: Path) -> None:
    missing = tmp_path / "missing.sock"
    with pytest.raises(TransientError, match=r"Cannot connect to the Docker daemon at unix://"):
        api(missing).get("/info", what="docker info", bound=5)

    dropped = serve(None)
    with pytest.raises(TransientError, match="docker info failed: error during connect"):
        api(dropped.path).get("/info", what="docker info", bound=5)

    silent = serve(b"")  # answers nothing, holds the connection
    with pytest.raises(EngineTimeout, match=r"docker info gave no answer in 0\.3 s"):
        api(silent.path).get("/info", what="docker info", bound=0.3)

    refused = serve(sized(b'{"message": "no such image"}', "500 Internal Server Error"))
    with pytest.raises(PermanentError, match="Error response from daemon: no such image"):
        api(refused.path).get("/info", what="docker info", bound=5)

    garbled = serve(sized(b"{not json"))
    with pytest.raises(PermanentError, match="unexpected answer to docker info"):
        api(garbled.path).get("/info", what="docker info", bound=5)


def test_gone_containers_are_left_out_when_asked(serve: Serve) -> None:
    server = serve(sized(b"[1]"), sized(b'{"message": "No such container"}', "404 Not Found"))
    answers = api(server.path).get("/a", "/b", what="docker inspect", bound=5, gone_ok=True)
    assert answers == [[1]]
