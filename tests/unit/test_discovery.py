"""Finding a project (state/resolve/discovery.py, inputs.py, naming.py): the cases the
differential test (tests/property/test_discovery_differential.py) does not generate:
this repository's layout, a table beside the compose files, the one-line errors, a
top-level `name:`, and Compose's image rules (state/model/images.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from state.docker.compose import without_absent_dependencies
from state.errors import ConfigError
from state.model.images import Need, need, needs
from state.resolve.inputs import gather
from state.resolve.project import load_project, project_from, table_of

REPO = Path(__file__).resolve().parents[2]
TABLE = 'default = "prod"\n[environments.prod]\nfiles = ["compose.yaml"]\n'
SERVICE = "services:\n  web:\n    image: busybox\n"


def test_this_repository_is_found_from_its_root_and_below(tmp_path: Path) -> None:
    checkout = tmp_path / "My.Checkout"
    (checkout / "compose").mkdir(parents=True)
    (checkout / "compose/environments.toml").write_text(TABLE)
    (checkout / "compose/compose.yaml").write_text(SERVICE)
    (checkout / "compose/.env").write_text("API_PORT=1\n")  # never read
    (checkout / ".env").write_text("API_PORT=2\n")
    below = checkout / "services" / "api"
    below.mkdir(parents=True)
    for start in (checkout, below):
        inputs = gather(start, environ={})
        project = project_from(inputs, table_of(inputs), None)
        assert project.directory == checkout
        assert project.compose_dir == checkout / "compose"
        assert project.files == (checkout / "compose/compose.yaml",)
        assert project.env_files() == (checkout / ".env",)
        assert project.name == "mycheckout"
        assert project.table_path == checkout / "compose/environments.toml"


def test_the_repository_itself_keeps_its_layout() -> None:
    project = load_project(REPO, process_env={"APP_ENV": "dev"})
    assert project.compose_dir == REPO / "compose"
    assert [p.name for p in project.files] == ["compose.yaml", "compose.dev.yaml"]
    assert project.profiles == ("dev",)


def test_a_table_beside_the_compose_file_names_the_files(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(SERVICE)
    (tmp_path / "extra.yaml").write_text(SERVICE)
    (tmp_path / "environments.toml").write_text(
        'default = "prod"\n[environments.prod]\nfiles = ["compose.yaml", "extra.yaml"]\n'
        'profiles = ["x"]\n'
    )
    project = load_project(tmp_path, process_env={"COMPOSE_PROFILES": "y"})
    assert project.files == (tmp_path / "compose.yaml", tmp_path / "extra.yaml")
    assert project.profiles == ("x",)  # the table's, never COMPOSE_PROFILES
    assert project.process_variables()["COMPOSE_PROFILES"] == "x"


def test_without_a_table_the_profiles_are_compose_s(tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").write_text(SERVICE)
    (tmp_path / "docker-compose.override.yml").write_text(SERVICE)
    (tmp_path / ".env").write_text("COMPOSE_PROFILES= a , b,,a\nAPP_ENV=whatever\n")
    project = load_project(tmp_path, process_env={})
    assert project.table is None and not project.app_env.has_table
    assert project.profiles == ("a", "b")
    assert [p.name for p in project.files] == ["docker-compose.yml", "docker-compose.override.yml"]
    assert "APP_ENV" not in project.process_variables()
    # An exported empty value masks .env, as for Compose.
    assert load_project(tmp_path, process_env={"COMPOSE_PROFILES": ""}).profiles == ()


@pytest.mark.parametrize(
    ("line", "environ", "name"),
    [
        ("name: My App", {}, "myapp"),
        ("name: 'quoted'  # comment", {}, "quoted"),
        ('name: "${APP:-from-default}"', {}, "from-default"),
        ("name: ${APP}", {"APP": "Set.By-Env"}, "setby-env"),
        ("name: plain # comment", {}, "plain"),
    ],
)
def test_a_top_level_name_is_read_as_compose_reads_it(
    tmp_path: Path, line: str, environ: dict[str, str], name: str
) -> None:
    (tmp_path / "compose.yaml").write_text(f"{line}\n{SERVICE}")
    assert load_project(tmp_path, process_env=environ).name == name
    # COMPOSE_PROJECT_NAME still wins; an empty one does not count.
    assert load_project(tmp_path, process_env={**environ, "COMPOSE_PROJECT_NAME": "x"}).name == "x"
    assert load_project(tmp_path, process_env={**environ, "COMPOSE_PROJECT_NAME": ""}).name == name


def test_a_name_we_cannot_read_is_one_line_naming_the_fix(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(f"name: *alias\n{SERVICE}")
    with pytest.raises(ConfigError, match="--project-name") as caught:
        load_project(tmp_path, process_env={})
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("setup", "fragment"),
    [
        ({"files": ["missing.yaml"]}, "missing.yaml (-f) does not exist"),
        ({"environ": {"COMPOSE_FILE": "nope.yaml"}}, "nope.yaml (COMPOSE_FILE) does not exist"),
        ({"environ": {"COMPOSE_FILE": ""}}, "COMPOSE_FILE=''"),
        ({"environ": {"COMPOSE_DISABLE_ENV_FILE": "maybe"}}, "COMPOSE_DISABLE_ENV_FILE"),
        ({}, "--project-directory DIR or --file FILE"),
    ],
)
def test_what_compose_refuses_is_one_line(
    tmp_path: Path, setup: dict[str, object], fragment: str
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError) as caught:
        gather(
            empty,
            files=[Path(f) for f in setup.get("files", [])],  # type: ignore[attr-defined]
            environ=setup.get("environ", {}),  # type: ignore[arg-type]
        )
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("raw", "present", "can_build", "expected"),
    [
        ({}, True, False, None),
        ({}, False, False, Need.PULL),
        ({}, False, True, Need.PULL_OR_BUILD),
        ({"pull_policy": "never"}, False, False, Need.MISSING),
        ({"pull_policy": "never"}, False, True, Need.BUILD),
        ({"pull_policy": "never"}, True, True, None),
        ({"pull_policy": "always"}, True, False, Need.PULL),
        ({"pull_policy": "build"}, True, True, Need.BUILD),
        ({"pull_policy": "daily"}, True, False, None),
        ({"pull_policy": "if_not_present"}, False, False, Need.PULL),
        ({"image": ""}, False, True, Need.BUILD),  # named after the service: never pulled
        ({"image": ""}, True, True, None),
    ],
)
def test_images_are_pulled_or_built_as_compose_up_does(
    raw: dict[str, str], present: bool, can_build: bool, expected: Need | None
) -> None:
    service = {"image": "x:1", **raw}
    assert need(service, present=present, can_build=can_build) is expected


def test_a_service_built_by_another_is_buildable_and_unnamed_images_are_compose_s() -> None:
    services: dict[str, dict[str, Any]] = {
        "app": {"build": {"context": "."}, "image": "shared:1"},
        "worker": {"image": "shared:1"},
        "docs": {"build": {"context": "docs"}},
    }
    assert needs(services, "proj", frozenset()) == {
        "app": ("shared:1", Need.PULL_OR_BUILD),
        "worker": ("shared:1", Need.PULL_OR_BUILD),
        "docs": ("proj-docs", Need.BUILD),  # no `image:`: never pulled
    }


def test_optional_dependencies_on_services_left_out_are_dropped_for_the_hash() -> None:
    model = {
        "services": {
            "app": {"depends_on": {"db": {"required": False}, "cache": {"required": True}}},
            "cache": {},
        }
    }
    kept = json.loads(without_absent_dependencies(json.dumps(model)))
    assert kept["services"]["app"]["depends_on"] == {"cache": {"required": True}}
    untouched = json.dumps({"services": {"cache": {}}})
    assert without_absent_dependencies(untouched) is untouched
