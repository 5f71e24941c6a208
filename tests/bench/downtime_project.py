"""The project of `just bench --only downtime`: the synthetic layout with published web services.

The same N services as the synthetic project (chains, a healthcheck in each group, a
`dev` profile, APP_ENV everywhere so prod -> dev recreates all), except that the last
service of each group of ten (independent: nothing depends on it) is a busybox
`httpd` published on an ephemeral host port (`ports: ["8080"]`, so it can run twice)
with a healthcheck that fetches its page. In the start-first variant these services
ask for `deploy.update_config.order: start-first`. `bump` is the config change of one
stateless service: its own WEB_REVISION, which no other service has.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from tests.bench.synthetic import (
    ENVIRONMENTS,
    GROUP,
    HEADER,
    IMAGE,
    ServiceSpec,
    SyntheticProject,
    compose_yaml,
    layout,
)

PORT = 8080
PUBLISHED_POSITION = GROUP - 1  # independent in the layout: nobody depends on it
WEB = """\
  {name}:
    image: {image}
    pull_policy: never
    init: true
    command:
      - sh
      - -c
      - mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p {port} -h /www
    environment:
      APP_ENV: ${{APP_ENV:-prod}}
      WEB_REVISION: "{name}-1"
    ports: ["{port}"]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:{port}/"]
      interval: 1s
      timeout: 2s
      retries: 3
"""
START_FIRST = """\
    deploy:
      update_config:
        order: start-first
"""


def published(specs: list[ServiceSpec] | tuple[ServiceSpec, ...]) -> list[str]:
    """The published web services among `specs`: one per group of ten."""
    return [s.name for i, s in enumerate(specs) if i % GROUP == PUBLISHED_POSITION]


def downtime_yaml(specs: list[ServiceSpec], start_first: bool) -> str:
    """The synthetic project's compose.yaml with its published services made web servers."""
    webs = set(published(specs))
    parts = [HEADER]
    for spec in specs:
        if spec.name in webs:
            parts.append(WEB.format(name=spec.name, image=IMAGE, port=PORT))
            parts.append(START_FIRST if start_first else "")
        else:
            parts.append(compose_yaml([spec]).removeprefix(HEADER))
    return "".join(parts)


def create(root: Path, count: int, label: str, start_first: bool) -> SyntheticProject:
    """A new project directory under `root` and a unique project name, for one tool."""
    specs = layout(count)
    directory = root / f"n{count}-{label}"
    (directory / "compose").mkdir(parents=True)
    (directory / "compose" / "environments.toml").write_text(ENVIRONMENTS)
    (directory / "compose" / "compose.yaml").write_text(downtime_yaml(specs, start_first))
    name = f"spotbench-dt{count}-{label}-{uuid.uuid4().hex[:6]}"
    return SyntheticProject(directory=directory, name=name, specs=tuple(specs))


def bump(project: SyntheticProject, service: str) -> None:
    """Change `service`'s configuration, and only its: its WEB_REVISION goes up by one."""
    path = project.directory / "compose" / "compose.yaml"
    text = path.read_text()
    found = re.findall(rf'WEB_REVISION: "{service}-(\d+)"', text)
    if len(found) != 1:
        raise ValueError(f"{service} is not a published service of {path}")
    old = f'WEB_REVISION: "{service}-{found[0]}"'
    path.write_text(text.replace(old, f'WEB_REVISION: "{service}-{int(found[0]) + 1}"'))
