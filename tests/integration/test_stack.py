"""The SPOT stack itself, brought up with plain `docker compose` in each environment.

These pin what the spec says each environment is, independently of the reconciler:
which services run, what /health and every container say about APP_ENV, which ports
are published where, hot reload in dev only, data that outlives `down`, and
containers that stop on SIGTERM instead of waiting to be killed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.plain_stack import PlainStack, wait_for

BASE = {"db", "api-gateway", "analyzer-nlp", "analyzer-llm"}
DEV_TOOLS = {"adminer", "mailhog", "devtools"}
MOCKS = {"analyzer-mock-nlp", "analyzer-mock-llm"}
EXPECTED = {
    "prod": {"services": BASE, "log_level": "INFO", "reload": False},
    "dev": {"services": BASE | DEV_TOOLS, "log_level": "DEBUG", "reload": True},
    "test": {"services": BASE | DEV_TOOLS | MOCKS, "log_level": "WARNING", "reload": True},
}
DEBUG_PORTS = {"8091/tcp", "8092/tcp"}
MAIN_PY = Path("compose/services/api-gateway/src/main.py")


@pytest.fixture(scope="module", params=["prod", "dev", "test"])
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PlainStack]:
    app_env: str = request.param
    stack = PlainStack.create(tmp_path_factory.mktemp(app_env), app_env, label=app_env)
    try:
        stack.up()
        yield stack
    finally:
        stack.remove_everything()


def test_health_names_the_environment(stack: PlainStack) -> None:
    body = stack.get("/health").json()
    assert body["app_env"] == stack.app_env
    assert body["log_level"] == EXPECTED[stack.app_env]["log_level"]
    assert body["database"] is True
    assert body["status"] == "ok"


def test_exactly_the_environments_services_run(stack: PlainStack) -> None:
    assert stack.running_services() == EXPECTED[stack.app_env]["services"]


def test_every_container_was_created_for_its_environment(stack: PlainStack) -> None:
    for service in sorted(stack.running_services()):
        env_lines = stack.exec(service, "env").splitlines()
        assert f"APP_ENV={stack.app_env}" in env_lines, service


def test_ports_are_published_on_loopback_only(stack: PlainStack) -> None:
    published: set[str] = set()
    for container in stack.containers():
        for port, bindings in (container["NetworkSettings"]["Ports"] or {}).items():
            for binding in bindings or []:
                assert binding["HostIp"] == "127.0.0.1", (container["Name"], port, binding)
                published.add(port)
    if stack.app_env == "prod":
        assert not published & DEBUG_PORTS
    else:
        assert published >= DEBUG_PORTS


def test_dev_tools_answer_with_their_name_and_only_outside_prod(stack: PlainStack) -> None:
    for variable, name in [
        ("ADMINER_PORT", "adminer"),
        ("MAILHOG_PORT", "mailhog"),
        ("DEBUG_PORT_1", "devtools"),
        ("DEBUG_PORT_2", "devtools"),
    ]:
        url = f"http://127.0.0.1:{stack.ports[variable]}/"
        if stack.app_env == "prod":
            with pytest.raises(httpx.ConnectError):
                httpx.get(url, timeout=2)
        else:
            text = httpx.get(url, timeout=5).text
            assert text.startswith(f"{name} stand-in (APP_ENV={stack.app_env})"), (variable, text)


def test_hot_reload_only_where_the_environment_says(stack: PlainStack) -> None:
    source = stack.directory / MAIN_PY
    marker = f"reloaded in {stack.app_env}"
    source.write_text(
        source.read_text().replace('GREETING = "spot api-gateway"', f'GREETING = "{marker}"')
    )

    def serves_marker() -> bool:
        try:
            return bool(stack.get("/").json()["message"] == marker)
        except Exception:  # mid-reload: connection refused or reset
            return False

    if EXPECTED[stack.app_env]["reload"]:
        assert wait_for(serves_marker, timeout=20), "the edit was not served within 20 s"
    else:
        assert not wait_for(serves_marker, timeout=4), "prod must not reload edited source"
        gateway = next(
            c
            for c in stack.containers()
            if c["Config"]["Labels"]["com.docker.compose.service"] == "api-gateway"
        )
        assert [m for m in gateway["Mounts"] if m["Type"] == "bind"] == []


def test_data_survives_down_without_volumes_and_containers_stop_on_sigterm(
    tmp_path: Path,
) -> None:
    stack = PlainStack.create(tmp_path, "test", label="data")
    psql = ("psql", "-h", "/tmp", "-U", "postgres", "-tAc")
    try:
        stack.up()
        stack.exec("db", *psql, "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('kept')")
        stack.down(volumes=False)
        assert stack.containers() == []
        stack.up()
        assert stack.exec("db", *psql, "SELECT body FROM notes").strip() == "kept"

        stack.compose("stop")
        # A container that ignored SIGTERM would be SIGKILLed after its grace period
        # (exit code 137); each one must have ended on the signal itself instead.
        # (How long the stop takes is measured by `just bench`.)
        codes = {
            c["Config"]["Labels"]["com.docker.compose.service"]: c["State"]["ExitCode"]
            for c in stack.containers()
        }
        assert set(codes) == EXPECTED["test"]["services"]
        assert {s: code for s, code in codes.items() if code == 137} == {}
    finally:
        stack.remove_everything()
