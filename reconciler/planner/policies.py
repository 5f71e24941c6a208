"""The team's policies, checked on the desired state a plan brings about (plan stage).

Each `[[policies]]` entry of the environment table (state/resolve/guarding.py) names a
rule, the environments it applies to and its parameters. A rule looks at each service
as Compose resolved it (DesiredService: image, ports, bind mounts, privileges,
profiles, APP_ENV) and says what is wrong with it, one phrase per finding. Pure: no
I/O; the apply refuses a plan with a violation that was not waived by name for the run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from state.model.desired import DesiredService, DesiredState
from state.resolve.guarding import PolicySpec

LOOPBACK = frozenset({"127.0.0.1", "::1"})


@dataclass(frozen=True)
class Violation:
    """One finding of one policy about one service."""

    policy: str
    rule: str
    service: str
    detail: str
    waived: bool = False

    def __str__(self) -> str:
        waived = " (waived for this run)" if self.waived else ""
        return f"blocked by policy {self.policy}: {self.service} {self.detail}{waived}"


def _latest(policy: PolicySpec, service: DesiredService, env: str) -> Iterable[str]:
    image = service.image
    if "@" in image:
        return  # pinned by digest
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        yield f"uses an untagged image ({image}, that is :latest): pin a tag"
    elif last.rsplit(":", 1)[1] == "latest":
        yield f"uses {image}: pin a tag other than latest"


def _ports(policy: PolicySpec, service: DesiredService, env: str) -> Iterable[str]:
    for port in service.ports:
        address = port.host_ip or "0.0.0.0"
        if address in LOOPBACK or address in policy.allow:
            continue
        if f"{address}:{port.published}" in policy.allow:
            continue
        shown = f"{address}:{port.published}" if port.published else address
        yield f"publishes port {port.target} on {shown}, not on 127.0.0.1"


def _binds(policy: PolicySpec, service: DesiredService, env: str) -> Iterable[str]:
    for source in service.binds:
        yield f"bind-mounts the host's {source}"


def _privileged(policy: PolicySpec, service: DesiredService, env: str) -> Iterable[str]:
    if service.privileged:
        yield "runs privileged"
    if service.cap_add:
        yield f"adds capabilities {', '.join(service.cap_add)}"


def _profiles(policy: PolicySpec, service: DesiredService, env: str) -> Iterable[str]:
    banned = sorted(set(service.profiles) & set(policy.profiles))
    if banned:
        yield f"belongs to profile {', '.join(banned)}"


def _debug_ports(policy: PolicySpec, service: DesiredService, env: str) -> Iterable[str]:
    for port in service.ports:
        published = int(port.published) if port.published.isdigit() else None
        if port.target in policy.ports or published in policy.ports:
            host = port.host_ip or "0.0.0.0"
            where = f"{host}:{port.published}" if port.published else "a host port"
            yield f"publishes debug port {port.target} on {where}"


def _app_env(policy: PolicySpec, service: DesiredService, env: str) -> Iterable[str]:
    if service.app_env != env:
        yield f"would run with APP_ENV={service.app_env or 'unset'}, not {env}"


RULES: dict[str, Callable[[PolicySpec, DesiredService, str], Iterable[str]]] = {
    "no-latest-image": _latest,
    "ports-on-loopback": _ports,
    "no-bind-mounts": _binds,
    "no-privileged": _privileged,
    "no-profile-services": _profiles,
    "no-debug-ports": _debug_ports,
    "app-env-matches": _app_env,
}


def violations(
    policies: Iterable[PolicySpec], desired: DesiredState, waived: frozenset[str] = frozenset()
) -> tuple[Violation, ...]:
    """Every finding of the policies that apply to the desired state's environment."""
    env = desired.app_env.name
    found = []
    for policy in policies:
        if env not in policy.environments:
            continue
        for name in sorted(desired.services):
            for detail in RULES[policy.rule](policy, desired.services[name], env):
                found.append(
                    Violation(policy.name, policy.rule, name, detail, policy.name in waived)
                )
    return tuple(found)
