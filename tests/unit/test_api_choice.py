"""Which engines the adapter reads over the Engine API (state/docker/api.py): only the
local socket; ssh://, tcp://, a docker context or DOCKER_* handed to `docker` keep the
CLI. No engine needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from state.docker.api import socket_path


@pytest.mark.parametrize(
    ("environ", "variables", "chosen"),
    [
        ({}, {}, "/var/run/docker.sock"),
        ({"DOCKER_HOST": "unix:///run/user/1000/docker.sock"}, {}, "/run/user/1000/docker.sock"),
        ({"DOCKER_HOST": "ssh://me@far"}, {}, None),
        ({"DOCKER_HOST": "tcp://127.0.0.1:2375"}, {}, None),
        ({"DOCKER_CONTEXT": "remote"}, {}, None),
        ({}, {"DOCKER_HOST": "ssh://me@far"}, None),
    ],
)
def test_only_a_local_socket_takes_the_api_path(
    environ: dict[str, str], variables: dict[str, str], chosen: str | None, tmp_path: Path
) -> None:
    environ = {"HOME": str(tmp_path), **environ}  # no config.json: the default context
    assert socket_path(environ, variables) == chosen
