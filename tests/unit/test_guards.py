"""Guardrails on the plan (reconciler/planner/guards.py, policies.py): pure, no engine.

Where an environment may run (pins), what needs a confirmation on a production engine
(a switch of environment, a destructive plan), and the policies, each rule violated
once; then through the CLI over the in-memory engine: refused, exit 1, nothing
touched, unless confirmed or waived, which the plan shows."""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli.main import main
from reconciler.commands.converge import ApplySettings, Guarded, enforce
from reconciler.planner.guards import DESTRUCTIVE, SWITCH, evaluate
from reconciler.planner.plan import plan
from reconciler.planner.policies import violations
from state.engine import EngineIdentity
from state.model.desired import Published
from state.resolve.project import COMPOSE_DIR
from state.resolve.table import EnvironmentTable, validated_table
from tests.builders import container, desired, observed, service
from tests.memory_engine import MemoryEngine

REPO = Path(__file__).resolve().parents[2]
HERE = EngineIdentity(endpoint="unix:///var/run/docker.sock", daemon_name="prod-1")


def table(**extra: Any) -> EnvironmentTable:
    return validated_table(
        {
            "default": "prod",
            "environments": {
                "prod": {"description": "p", "files": ["compose.yaml"]},
                "dev": {"description": "d", "files": ["compose.yaml"], "profiles": ["dev"]},
            },
            **extra,
        }
    )


PRODUCTION = {"prod-host": {"daemon": "prod-1", "production": True, "allow": ["prod", "dev"]}}


def test_a_table_without_engines_guards_nothing() -> None:
    want = desired(service("db", volumes=("data",)))
    verdict = evaluate(table(), "prod", None, want, observed(), plan(want, observed()))
    assert (verdict.refusal, verdict.confirmations, verdict.violations) == (None, (), ())


def test_an_environment_a_production_engine_does_not_allow_is_refused() -> None:
    engines = {"prod-host": {"daemon": "prod-1", "production": True, "allow": ["prod"]}}
    want = desired(service("web"), env="dev")
    verdict = evaluate(
        table(engines=engines), "dev", HERE, want, observed(), plan(want, observed())
    )
    assert verdict.production and verdict.engines == ("prod-host",)
    assert verdict.refusal and "environment dev may not run on engine prod-host" in verdict.refusal
    assert "add 'dev' to engines.prod-host.allow" in verdict.refusal


def test_an_environment_pinned_elsewhere_is_refused_here() -> None:
    pinned = table(engines={"lab": {"endpoint": "ssh://lab"}})
    prod = dataclasses.replace(pinned.environments["prod"], engines=("lab",))
    pinned = dataclasses.replace(pinned, environments={**pinned.environments, "prod": prod})
    want = desired(service("web"))
    verdict = evaluate(pinned, "prod", HERE, want, observed(), plan(want, observed()))
    assert verdict.refusal and "runs only on engine lab" in verdict.refusal
    assert str(HERE) in verdict.refusal


def test_on_production_a_switch_and_a_stateful_recreate_need_confirmation() -> None:
    want = desired(
        service("db", volumes=("data",), env="dev"), service("web", env="dev"), env="dev"
    )
    world = observed(container("db"), container("web"))  # running prod
    verdict = evaluate(table(engines=PRODUCTION), "dev", HERE, want, world, plan(want, world))
    kinds = {c.kind: c for c in verdict.confirmations}
    assert set(kinds) == {SWITCH, DESTRUCTIVE}
    assert kinds[SWITCH].target == "dev" and "switches from prod to dev" in kinds[SWITCH].reasons[0]
    assert any("spot-db-1, which owns named volumes" in r for r in kinds[DESTRUCTIVE].reasons)


def test_stopping_more_than_the_share_is_destructive_where_the_table_asks() -> None:
    asks = table(confirm={"environments": ["prod"], "stop_share": 0.5})
    world = observed(container("a"), container("b"), container("c"))
    stops = plan(desired(service("a")), world)  # b and c are not wanted: removed
    verdict = evaluate(asks, "prod", None, desired(service("a")), world, stops)
    (confirmation,) = verdict.confirmations
    assert "stops 2 of the 3 running services (more than 50%)" in confirmation.reasons


@pytest.mark.parametrize(
    ("rule", "parameters", "changes", "found"),
    [
        ("no-latest-image", {}, {"image": "web:latest"}, "uses web:latest"),
        ("no-latest-image", {}, {"image": "registry:5000/web"}, "untagged image"),
        (
            "ports-on-loopback",
            {},
            {"ports": (Published(host_ip="0.0.0.0", published="80", target=80),)},
            "publishes port 80 on 0.0.0.0:80",
        ),
        ("no-bind-mounts", {}, {"binds": ("/srv/src",)}, "bind-mounts the host's /srv/src"),
        ("no-privileged", {}, {"privileged": True}, "runs privileged"),
        ("no-privileged", {}, {"cap_add": ("NET_ADMIN",)}, "adds capabilities NET_ADMIN"),
        ("no-profile-services", {"profiles": ["dev"]}, {"profiles": ("dev",)}, "profile dev"),
        (
            "no-debug-ports",
            {"ports": [8091]},
            {"ports": (Published(host_ip="127.0.0.1", published="18091", target=8091),)},
            "publishes debug port 8091 on 127.0.0.1:18091",
        ),
        ("app-env-matches", {}, {"app_env": "staging"}, "APP_ENV=staging, not prod"),
    ],
)
def test_each_rule_finds_what_it_forbids(
    rule: str, parameters: dict[str, Any], changes: dict[str, Any], found: str
) -> None:
    policies = table(
        policies=[{"name": "p", "rule": rule, "environments": ["prod"], **parameters}]
    ).policies
    clean = desired(service("web"))
    assert violations(policies, clean) == ()
    bad = desired(replace(service("web"), **changes))
    (violation,) = violations(policies, bad)
    assert found in str(violation) and str(violation).startswith("blocked by policy p: web ")
    assert violations(policies, bad, frozenset({"p"}))[0].waived


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"policies": [{"name": "x", "rule": "no-such-rule", "environments": ["prod"]}]}, "rule"),
        (
            {"policies": [{"name": "x", "rule": "no-bind-mounts", "environments": ["prdo"]}]},
            "names environment 'prdo', which the table does not define (did you mean 'prod'?)",
        ),
        ({"engines": {"h": {"production": True, "allow": ["prod"]}}}, "needs `endpoint`"),
        ({"engines": {"h": {"daemon": "x", "production": True}}}, "needs `allow`"),
        (
            {"policies": [{"name": "x", "rule": "no-debug-ports", "environments": ["prod"]}]},
            "needs `ports`",
        ),
    ],
)
def test_a_malformed_guard_is_one_line_naming_the_key(
    extra: dict[str, Any], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import tomllib  # noqa: F401 (the table is written as TOML, read as the CLI reads it)

    shutil.copytree(REPO / COMPOSE_DIR, tmp_path / COMPOSE_DIR, ignore=lambda d, n: ["images"])
    path = tmp_path / COMPOSE_DIR / "environments.toml"
    path.write_text(path.read_text() + "\n" + toml(extra))
    engine = MemoryEngine(desired(service("db")))
    code = main(["--plan", "--project-directory", str(tmp_path)], engine=lambda p: engine)
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and str(path) in err and message in err, err
    assert engine.writes == []


def toml(extra: dict[str, Any]) -> str:
    lines = []
    for key, value in extra.items():
        if key == "policies":
            for policy in value:
                lines.append("[[policies]]")
                lines += [f"{k} = {_value(v)}" for k, v in policy.items()]
        else:
            for name, spec in value.items():
                lines.append(f"[{key}.{name}]")
                lines += [f"{k} = {_value(v)}" for k, v in spec.items()]
    return "\n".join(lines) + "\n"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return f'"{value}"' if isinstance(value, str) else str(value)


def test_an_apply_says_each_confirmation_it_was_given_and_refuses_the_others() -> None:
    want = desired(
        service("db", volumes=("data",), env="dev"), service("web", env="dev"), env="dev"
    )
    world = observed(container("db"), container("web"))  # running prod
    verdict = evaluate(table(engines=PRODUCTION), "dev", HERE, want, world, plan(want, world))
    said: list[str] = []
    only_the_switch = ApplySettings(confirm=lambda confirmation: confirmation.kind == SWITCH)
    with pytest.raises(Guarded, match="the plan is destructive"):
        enforce(verdict, only_the_switch, said.append)
    assert said == ["Confirmed: switching to dev on this engine"]
    said.clear()
    enforce(verdict, ApplySettings(confirm=lambda confirmation: True), said.append)
    assert said[1].startswith("Confirmed: the destructive actions above (recreates spot-db-1")
