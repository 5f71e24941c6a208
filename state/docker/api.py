"""The Docker adapter's reads over the Engine API: one HTTP request where the CLI path
starts one `docker` process.

Only the reads that build the observed state and the image ids (list and inspect the
project's containers, list the images, `info`; the logs `reconcile logs` prints when
it does not follow, state/docker/api_logs.py) come here, and only when the engine is
the local socket (unix://, no docker context): `socket_path` says so, else the adapter
(state/docker/adapter.py) keeps the CLI. Writes stay python-on-whales' command lines.
Each read has the CLI path's bound (one deadline for all its requests: EngineTimeout
with the same message) and the same error mapping: the text the docker CLI would print
("Cannot connect to the Docker daemon at ...", "Error response from daemon: ...") is
classified by state/docker/errors.py, so a retry policy cannot tell the two paths apart.
state/docker/wire.py speaks HTTP on the socket: no import cost to speak of (httpx would
add ~0.2 s to every command, http.client ~9 ms) and no new dependency.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from state.docker.endpoint import context_name, engine_endpoint
from state.docker.errors import classify, first_line, fix_for
from state.docker.wire import Connection
from state.errors import EngineTimeout, PermanentError

UNIX = "unix://"


def socket_path(environ: Mapping[str, str], variables: Mapping[str, str]) -> str | None:
    """The local socket the docker CLI would talk to, or None: a DOCKER_HOST that is not
    unix:// (tcp://, ssh://), a docker context, or DOCKER_* among the variables the
    adapter hands `docker` (the CLI then reads them; the API path could not)."""
    if any(key.startswith("DOCKER_") for key in variables):
        return None
    if context_name(environ) is not None:
        return None
    endpoint = engine_endpoint(environ)
    return endpoint.removeprefix(UNIX) if endpoint.startswith(UNIX) else None


class EngineAPI:
    """The Engine API on a local socket: GET requests, each read bounded as a whole."""

    def __init__(self, path: str, timeout_message: Callable[[str, float], str]) -> None:
        self.path = path
        self.requests = 0
        self._timeout_message = timeout_message  # (what, limit) -> the CLI path's message

    def get(self, *paths: str, what: str, bound: float, gone_ok: bool = False) -> list[Any]:
        """The JSON of each GET `paths` (one connection, in order), within `bound` seconds
        in all; the CLI path's error for a refusal, a failure or no answer in time.
        `gone_ok`: a path answered 404 (a container removed since it was listed, as
        Compose does while it recreates) is left out, not an error."""
        try:
            return [
                json.loads(body)
                for _, body in self.bodies(*paths, what=what, bound=bound, gone_ok=gone_ok)
            ]
        except ValueError as exc:
            raise PermanentError(f"unexpected answer to {what}: {exc}") from None

    def bodies(
        self, *paths: str, what: str, bound: float, gone_ok: bool = False
    ) -> Iterator[tuple[str, bytes]]:
        """Each path with the raw body of its GET, as it comes (one connection, in
        order), bounded and refused as `get` is."""
        deadline = time.monotonic() + bound
        connection: Connection | None = None
        try:
            connection = Connection(self.path, bound)
            for path in paths:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                connection.settimeout(left)
                self.requests += 1
                status, body = connection.get(path)
                if status == 404 and gone_ok:
                    continue
                if status >= 400:
                    raise self._refused(what, status, body)
                yield path, body
        except TimeoutError:
            raise EngineTimeout(self._timeout_message(what, bound)) from None
        except (FileNotFoundError, ConnectionRefusedError):
            raise self._failed(
                what,
                f"Cannot connect to the Docker daemon at {UNIX}{self.path}. "
                "Is the docker daemon running?",
            ) from None
        except PermissionError as exc:
            raise self._failed(
                what,
                "permission denied while trying to connect to the Docker daemon socket at "
                f"{UNIX}{self.path}: {exc.strerror}",
            ) from None
        except OSError as exc:
            raise self._failed(what, f"error during connect: {exc}") from None
        finally:
            if connection is not None:
                connection.close()

    def _refused(self, what: str, status: int, body: bytes) -> Exception:
        try:
            message = str(json.loads(body).get("message", ""))
        except (ValueError, AttributeError):
            message = body.decode(errors="replace").strip()
        return self._failed(what, f"Error response from daemon: {message or status}")

    @staticmethod
    def _failed(what: str, stderr: str) -> Exception:
        """The error the CLI path raises for this stderr (state/docker/run.py)."""
        return classify(stderr)(f"{what} failed: {first_line(stderr)}{fix_for(stderr)}")


def filters(**wanted: list[str]) -> str:
    """The `filters` query parameter: {"label": ["k=v"], ...} as JSON, URL-quoted."""
    return urllib.parse.quote(json.dumps(wanted, separators=(",", ":")))
