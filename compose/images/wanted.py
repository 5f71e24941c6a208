"""Print the images that environments' services use, one a line, for build.sh.

usage: python compose/images/wanted.py [ENV...]

With no ENV: the APP_ENV that `reconcile` would act on, resolved the same way (the
process environment, then .env, then the default). Each environment contributes the
images of its compose files and profiles, as `docker compose config --images` lists
them, so an image only the dev profile uses is built only for dev and test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from state.errors import ReconcilerError
from state.resolve.project import load_project

PROJECT_DIRECTORY = Path(__file__).resolve().parents[2]


def images_of(app_env: str | None) -> list[str]:
    env = dict(os.environ) if app_env is None else {**os.environ, "APP_ENV": app_env}
    project = load_project(PROJECT_DIRECTORY, process_env=env)
    proc = subprocess.run(
        ["docker", "compose", *project.compose_args(), "config", "--images"],
        env={**env, **project.process_variables()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    if proc.returncode != 0:
        raise ReconcilerError(f"docker compose config --images failed: {proc.stderr.strip()}")
    return proc.stdout.split()


def main(argv: list[str]) -> int:
    try:
        wanted = {image for app_env in argv or [None] for image in images_of(app_env)}
    except ReconcilerError as exc:
        print(f"images: {exc}", file=sys.stderr)
        return 1
    print("\n".join(sorted(wanted)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
