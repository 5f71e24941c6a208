"""The SPOT stack itself, brought up with plain `docker compose` in each environment.

These pin what the spec says each environment is, independently of the reconciler:
which services run, what /health and every container say about APP_ENV, which ports
are published where, hot reload in dev only, data that outlives `down`, and
containers that stop on SIGTERM instead of waiting to be killed. Outside prod the dev
tools are real (Adminer logs into the db, the mail catcher receives the api-gateway's
SMTP, devtools has psql, curl and httpie), the dev dependencies are installed, and the
debug ports are debugpy listeners an editor can attach to; in prod none of that exists.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration import dap
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
DEV_PORTS = ("ADMINER_PORT", "MAILHOG_PORT", "DEBUG_PORT_1", "DEBUG_PORT_2")
TABLE = "spot_notes_for_adminer"
SEND_MAIL = """
import smtplib, sys
from email.message import EmailMessage
mail = EmailMessage()
mail["From"], mail["To"], mail["Subject"] = "api-gateway@spot.test", "dev@spot.test", sys.argv[1]
mail.set_content("sent over SMTP from inside the api-gateway container")
with smtplib.SMTP("mailhog", 1025, timeout=10) as smtp:
    smtp.send_message(mail)
"""
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


def only_outside_prod(stack: PlainStack) -> None:
    if stack.app_env == "prod":
        assert not stack.running_services() & DEV_TOOLS
        pytest.skip("no dev tools in prod (test_nothing_listens_on_the_dev_ports_in_prod)")


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


def test_nothing_listens_on_the_dev_ports_in_prod(stack: PlainStack) -> None:
    if stack.app_env != "prod":
        pytest.skip("the dev ports answer outside prod: the tests below talk to each")
    for variable in DEV_PORTS:
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{stack.ports[variable]}/", timeout=2)


def test_adminer_logs_into_the_db_and_lists_its_tables(stack: PlainStack) -> None:
    only_outside_prod(stack)
    stack.exec("db", "psql", "-h", "/tmp", "-U", "postgres", "-c", f"CREATE TABLE {TABLE} (n int)")
    login = {
        "auth[driver]": "pgsql",
        "auth[server]": "db",
        "auth[username]": "postgres",
        "auth[password]": "spot",
        "auth[db]": "postgres",
    }
    base = f"http://127.0.0.1:{stack.ports['ADMINER_PORT']}/"
    with httpx.Client(base_url=base, timeout=10, follow_redirects=True) as adminer:
        assert "<title>Login - Adminer</title>" in adminer.get("/").text
        schema = adminer.post("/", data=login)
        assert "Schema: public - db - Adminer" in schema.text, schema.text[-2000:]
        assert f"table={TABLE}" in schema.text
    with httpx.Client(base_url=base, timeout=10, follow_redirects=True) as adminer:
        adminer.get("/")
        wrong = adminer.post("/", data={**login, "auth[password]": "wrong"})
        assert "password authentication failed" in wrong.text
        assert f"table={TABLE}" not in wrong.text


def test_a_mail_sent_by_the_api_gateway_reaches_the_mail_catcher(stack: PlainStack) -> None:
    only_outside_prod(stack)
    subject = f"sent by the api-gateway in {stack.app_env}"
    stack.exec("api-gateway", "python3", "-c", SEND_MAIL, subject)
    mails = httpx.get(f"http://127.0.0.1:{stack.ports['MAILHOG_PORT']}/email", timeout=5).json()
    assert [(m["subject"], m["to"][0]["address"]) for m in mails] == [(subject, "dev@spot.test")]


def test_devtools_reaches_the_db_with_psql_and_the_api_with_curl_and_httpie(
    stack: PlainStack,
) -> None:
    only_outside_prod(stack)
    assert stack.exec("devtools", "psql", "-tAc", "SELECT current_user").strip() == "postgres"
    curl = stack.exec("devtools", "curl", "-fsS", "http://api-gateway:8080/health")
    httpie = stack.exec("devtools", "http", "--ignore-stdin", "--body", "api-gateway:8080/health")
    for answer in (curl, httpie):
        assert json.loads(answer)["app_env"] == stack.app_env


def test_dev_dependencies_are_installed_outside_prod_only(stack: PlainStack) -> None:
    """`import debugpy`: fails in every prod container, works in every dev/test app one."""
    results = {}
    for service in sorted(stack.running_services()):
        proc = stack.compose(
            "exec", "-T", service, "python3", "-c", "import debugpy, pytest", check=False
        )
        results[service] = "ok" if proc.returncode == 0 else proc.stderr.strip().splitlines()[-1]
    if stack.app_env == "prod":
        missing = "ModuleNotFoundError: No module named 'debugpy'"
        assert results == dict.fromkeys(results, missing)
    else:
        app = {s for s in results if s == "api-gateway" or s.startswith("analyzer")}
        assert {s: results[s] for s in app} == dict.fromkeys(app, "ok")


@pytest.mark.parametrize(
    ("variable", "debuggee"),
    [("DEBUG_PORT_1", "uvicorn"), ("DEBUG_PORT_2", "/app/services/analyzer/worker.py")],
)
def test_debug_ports_complete_a_debug_adapter_handshake_outside_prod(
    stack: PlainStack, variable: str, debuggee: str
) -> None:
    port = stack.ports[variable]
    if stack.app_env == "prod":
        with pytest.raises(ConnectionRefusedError):
            dap.attach_and_detach(port, timeout=2)
        return
    for _ in range(2):  # an editor can detach and attach again
        messages = dap.attach_and_detach(port)
        initialize = dap.response(messages, "initialize")
        assert initialize["success"] is True
        assert initialize["body"]["supportsConfigurationDoneRequest"] is True
        assert dap.response(messages, "attach")["success"] is True
        assert debuggee in dap.event(messages, "process")["body"]["name"]
        threads = dap.response(messages, "threads")["body"]["threads"]
        assert "MainThread" in {t["name"] for t in threads}
    # Detaching left the debuggee running.
    assert stack.get("/health").json()["status"] == "ok"


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
