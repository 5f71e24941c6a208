"""Start-first recreates: which services may run twice for a moment (plan stage).

A service that asks for `deploy.update_config.order: start-first` (the key Swarm
honours) has its running containers recreated by starting the new one beside the old,
waiting until it is ready, then removing the old (reconciler/execute/runner.py): no
downtime. That needs two containers of it at once, which a fixed `container_name`
(one name) or a fixed host port (one listener) forbids; such a service is told why
in the plan and recreated stop-first. Ephemeral host ports (none given, or 0) are
fine: Docker gives each container its own. Pure: a DesiredService in, an answer out.
"""

from __future__ import annotations

from state.model.desired import DesiredService

START_FIRST = "start-first"  # deploy.update_config.order a service may ask for


def wants(service: DesiredService) -> bool:
    """It asks for start-first recreates."""
    return service.update_order == START_FIRST


def refusal(service: DesiredService) -> str | None:
    """Why the service cannot run twice (None: it can), as one line of the plan."""
    if service.container_name:
        return f"start-first refused: container_name {service.container_name} fixes one name"
    fixed = [p for p in service.ports if p.published not in ("", "0")]
    if fixed:
        port = fixed[0]
        where = f"{port.host_ip}:" if port.host_ip else ""
        return f"start-first refused: host port {where}{port.published} is fixed"
    return None


def note(service: DesiredService) -> str | None:
    """The plan's reason for a service that asks for start-first and cannot have it."""
    why = refusal(service) if wants(service) else None
    return f"{why}; stop-first" if why else None


def allowed(service: DesiredService) -> bool:
    return wants(service) and refusal(service) is None
