"""The Docker adapter's parse step and error mapping, on captured output (no Docker).

tests/fixtures/inspect/*.json are real `docker container inspect` outputs of the
stack's containers (running and healthy, exited, paused).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from state.docker_engine import classify, first_line, fix_for
from state.docker_inspect import parse_inspect
from state.engine import ContainerStatus
from state.errors import PermanentError, TransientError
from state.observed import _observed

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "inspect"


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.stem)
def test_captured_inspect_output_parses(path: Path) -> None:
    (record,) = parse_inspect(path.read_text())
    observed = _observed(record)
    assert observed.service in {"api-gateway", "analyzer-nlp", "analyzer-llm"}
    assert observed.app_env == "prod"
    assert observed.config_hash and len(observed.config_hash) == 64
    assert observed.image_id.startswith("sha256:")
    expected = {
        "running-healthy": ContainerStatus.RUNNING,
        "exited": ContainerStatus.EXITED,
        "paused": ContainerStatus.PAUSED,
    }[path.stem]
    assert observed.status is expected


def test_health_and_its_last_output_are_read() -> None:
    (record,) = parse_inspect((FIXTURES / "running-healthy.json").read_text())
    assert record.health == "healthy"
    assert record.health_output is not None


def test_garbage_is_a_clear_error_not_a_traceback() -> None:
    with pytest.raises(PermanentError, match="unexpected `docker inspect` output"):
        parse_inspect('[{"Id": 1}]')


def test_engine_errors_are_classified_and_carry_their_fix() -> None:
    daemon = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock."
    port = "Error starting userland proxy: listen tcp4 127.0.0.1:8080: bind: address already in use"
    assert classify(daemon) is TransientError
    assert classify(port) is PermanentError
    assert fix_for(daemon) == " Start it with `just engine`."
    assert "choose another in .env (API_PORT" in fix_for(port)
    assert fix_for("something else") == ""
    assert first_line(" Container x Creating\nError response from daemon: boom\n") == (
        "Error response from daemon: boom"
    )
