"""reconciler/reads/config_cache.py: every input Compose reads is in the key (an edit is a
miss), an unchanged input is a hit, and entries are private to the user."""

from __future__ import annotations

import dataclasses
import os
import shutil
import stat
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

import reconciler.reads.config_cache
from reconciler.reads.config_cache import DISABLE_VARIABLE, cached
from reconciler.store.places import CACHE_DIR_VARIABLE
from state.docker.args import CommandLines, ComposeOptions
from state.resolve.project import COMPOSE_DIR, load_project

REPO = Path(__file__).resolve().parents[2]


class CountingSource:
    """A CacheableSource that counts its Compose reads (it hands Compose nothing else)."""

    def __init__(self) -> None:
        self.calls = 0

    def compose_inputs(self) -> list[str]:
        return []

    def compose_files(self) -> list[Path]:
        return []

    def warm_state(self) -> dict[str, Any]:
        return {}

    def use_warm_state(self, state: Mapping[str, Any]) -> None:
        pass

    def use_content_override(self, path: Path) -> None:
        pass

    def compose_model(self) -> dict[str, Any]:
        self.calls += 1
        return {"services": {"db": {"image": "db:1", "environment": {"PASSWORD": "s3cret"}}}}

    def config_hashes(self) -> dict[str, str]:
        self.calls += 1
        return {"db": "abc"}

    def service_names_in_any_profile(self) -> frozenset[str]:
        self.calls += 1
        return frozenset({"db", "adminer"})

    def declared_profiles(self) -> frozenset[str]:
        return frozenset()

    def image_ids(self, references: Sequence[str]) -> dict[str, str]:
        return {}


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "checkout"
    shutil.copytree(REPO / COMPOSE_DIR, directory / COMPOSE_DIR)
    (directory / ".env").write_text("APP_ENV=dev\n")
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path / "cache"))
    monkeypatch.delenv(DISABLE_VARIABLE, raising=False)
    monkeypatch.delenv("APP_ENV", raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    return directory


def reads(directory: Path, project_name: str | None = None) -> int:
    """Compose reads made by one desire stage: 3 on a miss, 0 on a hit."""
    project = load_project(directory, project_name=project_name, process_env=os.environ)
    source = CountingSource()
    view = cached(project, source)
    assert view.compose_model()["services"]["db"]["image"] == "db:1"
    assert view.config_hashes() == {"db": "abc"}
    assert view.service_names_in_any_profile() == {"db", "adminer"}
    return source.calls


def append(path: Path, text: str) -> Callable[[], None]:
    def edit() -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as out:
            out.write(text)

    return edit


def test_an_unchanged_input_hits(checkout: Path) -> None:
    assert reads(checkout) == 3
    assert reads(checkout) == 0
    assert reads(checkout) == 0


@pytest.mark.parametrize(
    "input_name",
    [
        "compose file",
        "env file",
        "file named by env_file/include/extends",
        "a variable the compose file names",
        "APP_ENV (and with it the profiles)",
        "Compose binary",
    ],
)
def test_each_input_edited_is_a_miss(
    input_name: str, checkout: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plugin = tmp_path / "docker-config" / "cli-plugins" / "docker-compose"
    append(plugin, "v1")()
    edits: dict[str, Callable[[], None]] = {
        "compose file": append(checkout / COMPOSE_DIR / "compose.yaml", "\n# edited\n"),
        "env file": append(checkout / ".env", "EXTRA=1\n"),
        "file named by env_file/include/extends": append(
            checkout / COMPOSE_DIR / "extra" / "included.yaml", "x: 1\n"
        ),
        "a variable the compose file names": lambda: monkeypatch.setenv("API_PORT", "18080"),
        "APP_ENV (and with it the profiles)": lambda: monkeypatch.setenv("APP_ENV", "prod"),
        "Compose binary": append(plugin, "v2"),
    }
    assert reads(checkout) == 3
    assert reads(checkout) == 0
    edits[input_name]()
    assert reads(checkout) == 3, f"{input_name} changed but the cache answered"
    assert reads(checkout) == 0, "the new inputs are cached in turn"


@pytest.mark.parametrize("name", ["OLDPWD", "SHLVL", "FOO", "_", "TERM"])
def test_a_variable_compose_cannot_read_is_a_hit(
    name: str, checkout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A `cd` (OLDPWD), a subshell (SHLVL) or an unrelated variable is no new input."""
    monkeypatch.delenv(name, raising=False)
    assert reads(checkout) == 3
    monkeypatch.setenv(name, "/somewhere/else")
    assert reads(checkout) == 0, f"{name} is no input of Compose, yet the cache missed"


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("POSTGRES_PASSWORD", "named by the compose file as ${POSTGRES_PASSWORD}"),
        ("SPOT_EXTRA", "named by the env file"),
        ("SPOT_COPIED", "named without a value under environment: (the shell's)"),
        ("SPOT_IN_ENV_FILE", "named by a file under the compose directory (an env_file)"),
        ("COMPOSE_PROJECT_NAME", "COMPOSE_*"),
        ("COMPOSE_PATH_SEPARATOR", "COMPOSE_*"),
        ("DOCKER_HOST", "DOCKER_*"),
        ("DOCKER_DEFAULT_PLATFORM", "DOCKER_*"),
        ("RECONCILE_ENGINE_TIMEOUT", "the tool's own setting"),
        ("PATH", "where the binaries are found"),
    ],
)
def test_each_variable_compose_can_read_is_a_miss(
    name: str, where: str, checkout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    compose = checkout / COMPOSE_DIR / "compose.yaml"
    text = compose.read_text()
    password = "      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-spot}\n"
    compose.write_text(text.replace(password, password + "      SPOT_COPIED:\n", 1))
    assert "SPOT_COPIED" in compose.read_text()
    append(checkout / ".env", "OTHER=${SPOT_EXTRA:-x}\n")()
    append(checkout / COMPOSE_DIR / "app.env", "GREETING=$SPOT_IN_ENV_FILE\n")()
    monkeypatch.delenv(name, raising=False)
    if name == "PATH":
        monkeypatch.setenv("PATH", os.defpath)
    assert reads(checkout) == 3
    assert reads(checkout) == 0
    monkeypatch.setenv(name, f"{os.defpath}:/opt/other" if name == "PATH" else "changed")
    assert reads(checkout) == 3, f"{name} ({where}) changed but the cache answered"


@pytest.mark.parametrize(
    "line",
    ["    env_file: [../shared.env]\n", "    env_file:\n      - /etc/spot/app.env\n"],
)
def test_a_file_outside_the_compose_directory_turns_the_cache_off(
    line: str, checkout: Path
) -> None:
    """Such a file is not in the key: an edit of it must never meet a cached answer."""
    compose = checkout / COMPOSE_DIR / "compose.yaml"
    text = compose.read_text()
    compose.write_text(text.replace("  db:\n", "  db:\n" + line, 1))
    assert "  db:\n" + line in compose.read_text()
    assert reads(checkout) == 3
    assert reads(checkout) == 3, "cached although a read file is outside the key"


def test_a_directory_with_too_many_files_is_not_cached(
    checkout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A project's data beside its compose file: walking it for the key would cost more
    than the cache saves."""
    monkeypatch.setattr(reconciler.reads.config_cache, "TREE_LIMIT", 5)
    for index in range(6):
        (checkout / COMPOSE_DIR / f"data-{index}.bin").write_text("x")
    assert reads(checkout) == 3
    assert reads(checkout) == 3, "cached although the tree was not walked whole"


def test_project_name_and_directory_are_in_the_key(checkout: Path, tmp_path: Path) -> None:
    assert reads(checkout) == 3
    assert reads(checkout, project_name="other") == 3
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(checkout, elsewhere)
    assert reads(elsewhere) == 3
    assert reads(checkout) == 0


def test_entries_are_private_and_the_cache_can_be_turned_off(
    checkout: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert reads(checkout) == 3
    cache = tmp_path / "cache" / "compose-cache"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    entries = list(cache.iterdir())
    assert len(entries) == 4  # the model, the hashes, the services, what the source built
    assert all(stat.S_IMODE(entry.stat().st_mode) == 0o600 for entry in entries)
    monkeypatch.setenv(DISABLE_VARIABLE, "1")
    assert reads(checkout) == 3


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda text: text.replace("db:1", "db:6"),  # valid JSON, another value
        lambda text: text[: len(text) // 2],  # truncated
        lambda text: text.split("\n", 1)[1],  # the checksum line lost
        lambda text: "",  # emptied
    ],
    ids=["edited", "truncated", "no-checksum", "empty"],
)
def test_a_corrupted_entry_is_read_afresh_never_trusted(
    corrupt: Callable[[str], str], checkout: Path, tmp_path: Path
) -> None:
    assert reads(checkout) == 3
    assert reads(checkout) == 0
    (model,) = (tmp_path / "cache" / "compose-cache").glob("*.model.json")
    assert "db:1" in model.read_text()
    model.write_text(corrupt(model.read_text()))
    # reads() asserts the answer is Compose's ("db:1"), not the corrupted entry's.
    assert reads(checkout) == 1, "the corrupted model entry was trusted"
    assert reads(checkout) == 0, "the entry was rewritten"


def test_an_entry_copied_under_another_key_is_not_trusted(checkout: Path, tmp_path: Path) -> None:
    assert reads(checkout) == 3
    assert reads(checkout, project_name="other") == 3
    first, second = sorted((tmp_path / "cache" / "compose-cache").glob("*.hashes.json"))
    second.write_bytes(first.read_bytes())
    assert reads(checkout) + reads(checkout, project_name="other") == 1


def test_a_directory_others_can_write_is_not_trusted(checkout: Path, tmp_path: Path) -> None:
    assert reads(checkout) == 3
    (tmp_path / "cache" / "compose-cache").chmod(0o777)
    assert reads(checkout) == 3


class AdapterLikeSource(CountingSource):
    """Like the Docker adapter: hands Compose ComposeOptions and builds command lines."""

    def __init__(self, options: ComposeOptions) -> None:
        super().__init__()
        self.compose_options = options
        self.built = 0
        self.used: CommandLines | None = None

    def compose_inputs(self) -> list[str]:
        return self.compose_options.described()

    def compose_files(self) -> list[Path]:
        return [*self.compose_options.files, *self.compose_options.env_files]

    def command_lines(self) -> CommandLines:
        self.built += 1
        return CommandLines(("docker",), ("docker", "compose", "--file", str(options_file)))

    def warm_state(self) -> dict[str, Any]:
        lines = self.command_lines()
        return {"docker": list(lines.docker), "compose": list(lines.compose)}

    def use_warm_state(self, state: Mapping[str, Any]) -> None:
        self.used = CommandLines.of(state["docker"], state["compose"])


options_file = Path("/p/compose.yaml")


def adapter_reads(directory: Path, extra: Path | None = None) -> AdapterLikeSource:
    project = load_project(directory, process_env=os.environ)
    options = ComposeOptions.of(project)
    if extra is not None:  # e.g. a generated override handed to Compose as one more -f
        options = dataclasses.replace(options, files=(*options.files, extra))
    source = AdapterLikeSource(options)
    view = cached(project, source)
    view.compose_model()
    view.config_hashes()
    view.service_names_in_any_profile()
    return source


def test_every_file_the_adapter_hands_compose_is_in_the_key(checkout: Path, tmp_path: Path) -> None:
    override = tmp_path / "generated" / "override.yaml"  # outside the project directory
    append(override, "services: {}\n")()
    assert adapter_reads(checkout, override).calls == 3
    assert adapter_reads(checkout, override).calls == 0
    append(override, "# edited\n")()
    assert adapter_reads(checkout, override).calls == 3, "the extra -f file changed"
    assert adapter_reads(checkout).calls == 3, "one -f fewer"


def test_the_adapter_gets_its_command_lines_from_the_cache(checkout: Path) -> None:
    first = adapter_reads(checkout)
    assert (first.built, first.calls) == (1, 3)  # a miss: built (by python-on-whales) once
    second = adapter_reads(checkout)
    assert (second.built, second.calls) == (0, 0)
    assert second.used == first.used == first.command_lines()


def test_entries_unused_for_a_week_or_beyond_the_limit_are_pruned(tmp_path: Path) -> None:
    from reconciler.reads.config_cache import KEEP_DAYS, KEEP_ENTRIES, prune

    now = 1_000_000_000.0
    old, fresh = tmp_path / "old.model.json", tmp_path / "fresh.model.json"
    for path, age_days in ((old, KEEP_DAYS + 1), (fresh, 1)):
        path.write_text("{}")
        os.utime(path, (now - age_days * 86400, now - age_days * 86400))
    prune(tmp_path, now)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh.model.json"]

    for index in range(KEEP_ENTRIES + 5):
        path = tmp_path / f"k{index:04}.model.json"
        path.write_text("{}")
        os.utime(path, (now - index, now - index))  # k0000 is the newest
    prune(tmp_path, now)
    kept = sorted(p.name for p in tmp_path.iterdir())
    assert len(kept) == KEEP_ENTRIES and "k0000.model.json" in kept
    assert f"k{KEEP_ENTRIES + 4:04}.model.json" not in kept


class NameOnlySource(CountingSource):
    """A name-only engine (stop, down, logs by name): no files, only the environment."""

    def __init__(self) -> None:
        super().__init__()
        self.built = 0
        self.used: CommandLines | None = None

    def compose_inputs(self) -> list[str]:
        return ["name-only"]

    def command_lines(self) -> CommandLines:
        self.built += 1
        return CommandLines(("docker",), ("docker", "compose"))

    def warm_state(self) -> dict[str, Any]:
        lines = self.command_lines()
        return {"docker": list(lines.docker), "compose": list(lines.compose)}

    def use_warm_state(self, state: Mapping[str, Any]) -> None:
        self.used = CommandLines.of(state["docker"], state["compose"])


def test_a_name_only_engine_gets_its_command_lines_from_the_cache(
    checkout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reconciler.reads.config_cache import warm_named

    first, second = NameOnlySource(), NameOnlySource()
    warm_named(first)
    warm_named(second)
    assert (first.built, second.built) == (1, 0)  # python-on-whales built them once
    assert second.used == first.used == first.command_lines()
    monkeypatch.setenv("DOCKER_HOST", "unix:///elsewhere.sock")  # what the lines depend on
    third = NameOnlySource()
    warm_named(third)
    assert third.built == 1
    monkeypatch.setenv("UNRELATED", "x")  # a variable docker does not read
    fourth = NameOnlySource()
    warm_named(fourth)
    assert fourth.built == 0
    monkeypatch.setenv(DISABLE_VARIABLE, "1")
    off = NameOnlySource()
    warm_named(off)
    assert (off.built, off.used) == (0, None)  # left to build them when it needs them
