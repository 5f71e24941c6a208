"""The Docker adapter's parse step and error mapping, on captured output (no Docker).

tests/fixtures/inspect/*.json are real `docker container inspect` outputs of the
stack's containers (running and healthy, exited, paused); tests/fixtures/engine-errors/
holds the stderr of real failures of `docker` and `docker compose` on this engine.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from state.docker.errors import classify, first_line, fix_for
from state.docker.inspect import parse_inspect
from state.docker.timeouts import Timeouts
from state.engine import ContainerStatus
from state.errors import (
    ConfigError,
    ContainerGone,
    EngineError,
    EngineTimeout,
    PermanentError,
    TransientError,
)
from state.model.observed import _observed

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "inspect"
ERRORS = Path(__file__).resolve().parents[1] / "fixtures" / "engine-errors"


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
    assert fix_for(daemon) == f" {DAEMON_FIX}"
    assert "choose another in .env (API_PORT" in fix_for(port)
    assert fix_for("something else") == ""
    assert first_line(" Container x Creating\nError response from daemon: boom\n") == (
        "Error response from daemon: boom"
    )
    # Compose's progress line says "Error"; its reason comes after it.
    waited = " Container p-db-1  Waiting\n Container p-db-1  Error\n"
    reason = "dependency failed to start: container p-db-1 is unhealthy"
    assert first_line(f"{waited}{reason}\n") == reason


DAEMON_FIX = (
    "Start it (in the spot-reconciler repository: `just engine`; elsewhere: "
    "`sudo systemctl start docker`, or install Docker: https://docs.docker.com/engine/install/)."
)
PORT_FIX = "choose another in .env (API_PORT"
IMAGE_FIX = "Build the images with `just images`."
NAME_FIX = "Another container holds that name: remove or rename it"
GONE_FIX = "run again to plan from what exists now"

# captured stderr -> (error type, a fragment of the fix, or "" for none)
ENGINE_ERRORS: dict[str, tuple[type[EngineError], str]] = {
    # The daemon is away (stopped, restarting): a retry can succeed.
    "daemon-down": (TransientError, DAEMON_FIX),
    "connection-refused": (TransientError, DAEMON_FIX),
    "compose-daemon-down": (TransientError, DAEMON_FIX),
    # The connection dropped mid-request (the daemon went away under the call).
    "connection-dropped": (TransientError, DAEMON_FIX),
    "compose-connection-dropped": (TransientError, DAEMON_FIX),
    # Another removal of the same container is under way and will finish.
    "removal-in-progress": (TransientError, ""),
    # Permanent until someone acts: retrying only delays the one clear line.
    "name-conflict": (PermanentError, NAME_FIX),
    "compose-name-conflict": (PermanentError, NAME_FIX),
    "compose-port-in-use": (PermanentError, PORT_FIX),
    "port-allocated": (PermanentError, PORT_FIX),
    "no-such-image": (PermanentError, IMAGE_FIX),
    "compose-no-such-image": (PermanentError, IMAGE_FIX),
    "pull-denied": (PermanentError, IMAGE_FIX),
    "unpause-not-paused": (PermanentError, ""),
    # No Compose plugin: docker itself trips on the first Compose flag.
    "compose-plugin-missing": (PermanentError, "Compose v2 is missing: install the Docker Compose"),
    # Gone: success for stop and remove (the adapter's own business), else a re-plan.
    "no-such-container-stop": (ContainerGone, GONE_FIX),
    "no-such-container-rm": (ContainerGone, GONE_FIX),
    "no-such-container-start": (ContainerGone, GONE_FIX),
}


def test_every_captured_engine_error_has_an_expectation() -> None:
    assert {path.stem for path in ERRORS.glob("*.txt")} == set(ENGINE_ERRORS)


@pytest.mark.parametrize(("name", "expected"), sorted(ENGINE_ERRORS.items()))
def test_captured_engine_errors_are_classified(
    name: str, expected: tuple[type[EngineError], str]
) -> None:
    stderr = (ERRORS / f"{name}.txt").read_text()
    error, fix = expected
    assert classify(stderr) is error
    if fix:
        assert fix in fix_for(stderr)
    else:
        assert fix_for(stderr) == ""


@pytest.mark.parametrize("name", sorted(ENGINE_ERRORS))
def test_the_line_shown_for_a_captured_error_is_docker_s_reason(name: str) -> None:
    line = first_line((ERRORS / f"{name}.txt").read_text())
    assert "\n" not in line
    assert line.startswith(
        (
            "Error response from daemon",
            "Cannot connect",
            "unable to get",
            "docker:",
            "error during",
            "unknown flag",
        )
    )


def test_engine_calls_are_bounded_reads_short_writes_by_size() -> None:
    default = Timeouts.from_environment({})
    assert default.read == 30
    assert default.read < default.write(1) < default.write(20)
    assert Timeouts.from_environment({"RECONCILE_ENGINE_TIMEOUT": "2.5"}).read == 2.5


@pytest.mark.parametrize("value", ["soon", "0", "-3", "nan"])
def test_a_bad_engine_timeout_is_one_line_naming_the_fix(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Timeouts.from_environment({"RECONCILE_ENGINE_TIMEOUT": value})
    assert str(caught.value) == (
        f"RECONCILE_ENGINE_TIMEOUT={value!r} is not a number of seconds: "
        "set it to a positive number, e.g. 30, or unset it"
    )


def test_a_timeout_is_not_retried() -> None:
    assert issubclass(EngineTimeout, PermanentError)
    assert not issubclass(EngineTimeout, TransientError)


def test_batches_deal_every_id_once_into_at_most_the_limit() -> None:
    from state.docker.args import BATCHES, batches

    ids = [f"c{i}" for i in range(BATCHES + 10)]
    dealt = batches(ids)
    assert len(dealt) == BATCHES
    assert len(batches(ids[:3])) == 3
    assert sorted(i for batch in dealt for i in batch) == sorted(ids)
    assert batches(["a"]) == [["a"]]
    assert batches([]) == []


def test_python_on_whales_builds_the_command_lines_and_loads_only_when_used(
    tmp_path: Path,
) -> None:
    """The adapter's `docker` / `docker compose` lines are python-on-whales' own, built
    from ComposeOptions; importing or constructing the adapter does not load it, and
    lines handed back (the config cache's) are used without loading it."""
    import subprocess
    import sys

    from python_on_whales import DockerClient

    from state.docker.adapter import DockerEngine
    from state.docker.args import ComposeOptions
    from state.resolve.project import load_project

    repo = Path(__file__).resolve().parents[2]
    project = load_project(repo, process_env={"APP_ENV": "dev"})
    options = ComposeOptions.of(project)
    config = DockerClient(**options.client_kwargs()).client_config
    lines = DockerEngine(project).command_lines()
    assert list(lines.docker) == [str(arg) for arg in config.docker_cmd]
    assert list(lines.compose) == [str(arg) for arg in config.docker_compose_cmd]
    assert "--file" in lines.compose and str(project.files[0]) in lines.compose
    plain = [str(arg) for arg in DockerClient().client_config.docker_cmd]
    assert list(DockerEngine().command_lines().docker) == plain
    probe = (
        "import sys; from pathlib import Path; from state.docker.adapter import DockerEngine; "
        "from state.resolve.project import load_project; "
        f"e = DockerEngine(load_project(Path({str(repo)!r}), process_env={{'APP_ENV': 'dev'}})); "
        "e.use_warm_state({'docker': ['docker'], 'compose': ['docker', 'compose']}); "
        "assert e.command_lines().compose == ('docker', 'compose'); "
        "print('python_on_whales' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=repo, check=True
    )
    assert out.stdout.strip() == "False"


def test_a_swarm_network_still_being_removed_is_worth_a_retry() -> None:
    """Seen in CI: a deploy right after `stack rm` of the same project (Swarm removes the
    old network asynchronously); a network that is missing for another reason is not."""
    racing = (
        "failed to create service spotit-x_web: Error response from daemon: "
        "network spotit-x_default not found"
    )
    assert classify(racing) is TransientError
    assert classify("Error response from daemon: network spotit-x_default not found") is (
        PermanentError
    )


def test_env_without_docker_names_the_missing_program_and_where_to_get_it() -> None:
    """The command lines run `env ... docker`: with docker gone, env answers."""
    for stderr in (
        "/usr/bin/env: \u2018docker\u2019: No such file or directory",
        "env: 'docker': No such file or directory",
    ):
        assert classify(stderr) is PermanentError
        assert "docker is not on PATH: install Docker" in fix_for(stderr)
        assert "https://docs.docker.com/engine/install/" in fix_for(stderr)
