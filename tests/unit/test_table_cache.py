"""The environment table's cache (state/resolve/table.py, reconciler/store/table_cache.py):
a hit is what validation gives, without pydantic; an edit is a miss; a corrupted entry
is validated afresh and rewritten; nothing about the cache can fail a load or change
its errors. And the records cannot drift from the schema that fills them."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import state.resolve.table_schema as schema
from reconciler.store.places import CACHE_DIR_VARIABLE, NO_CACHE_VARIABLE
from reconciler.store.sealed import sealed, unsealed
from reconciler.store.table_cache import KEEP_ENTRIES, TableCache, table_cache
from state.backend import Backend
from state.errors import ConfigError
from state.resolve import guarding, table
from state.resolve.table import load_table, table_key, validated_table

REPO = Path(__file__).resolve().parents[2]

# Every kind of record: a swarm row with variables and a pin, content, guardrails.
TABLE = """
default = "prod"
build_images = "just images"

[content]
api = ["requirements.txt"]

[environments.prod]
description = "p"
files = ["compose.yaml"]
variables = { LOG_LEVEL = "INFO" }
engines = ["lab"]
notify = "echo done"

[environments.dev]
files = ["compose.yaml"]
profiles = ["dev"]
backend = "swarm"

[engines.lab]
daemon = "lab-1"
production = true
allow = ["prod"]

[confirm]
environments = ["dev"]
stop_share = 1

[[policies]]
name = "debug"
rule = "no-debug-ports"
environments = ["prod"]
ports = [5678]
"""


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project's compose directory holding TABLE, and a cache directory of its own."""
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path / "cache"))
    monkeypatch.delenv(NO_CACHE_VARIABLE, raising=False)
    compose = tmp_path / "compose"
    compose.mkdir()
    (compose / "compose.yaml").write_text("services: {}\n")
    (compose / "requirements.txt").write_text("flask\n")
    (compose / "environments.toml").write_text(TABLE)
    return compose


class Validations:
    """Counts the schema's validations (each miss is one)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = schema.validated

        def counted(raw: object, source: str) -> dict[str, Any]:
            self.count += 1
            return real(raw, source)

        monkeypatch.setattr(schema, "validated", counted)


def entries(compose: Path) -> list[Path]:
    return sorted((compose.parent / "cache" / "tables").glob("*.table.json"))


def fresh(compose: Path) -> table.EnvironmentTable:
    return validated_table(tomllib.loads((compose / "environments.toml").read_text()))


def test_a_hit_builds_what_validation_builds(places: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    validations = Validations(monkeypatch)
    first = load_table(places, table_cache())
    second = load_table(places, table_cache())
    assert validations.count == 1  # the second was a hit
    assert first == second == fresh(places)
    assert repr(second) == repr(fresh(places))  # the types too: tuple, enum, float
    assert second["dev"].backend is Backend.SWARM
    assert second.policies[0].ports == (5678,) and second.confirm.stop_share == 1.0


def test_entries_are_private(places: Path) -> None:
    load_table(places, table_cache())
    [entry] = entries(places)
    assert entry.stat().st_mode & 0o777 == 0o600
    assert entry.parent.stat().st_mode & 0o777 == 0o700


LOAD = """
import sys
from pathlib import Path
from reconciler.store.table_cache import table_cache
from state.resolve.table import load_table
load_table(Path(sys.argv[1]), table_cache())
print(sorted(m for m in sys.modules if m.split(".")[0] in ("pydantic", "tomllib")))
"""


def test_a_hit_imports_neither_pydantic_nor_tomllib(places: Path) -> None:
    env = {**os.environ, CACHE_DIR_VARIABLE: str(places.parent / "cache")}
    env.pop(NO_CACHE_VARIABLE, None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))

    def loaded() -> list[str]:
        argv = [sys.executable, "-c", LOAD, str(places)]
        out = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
        return list(json.loads(out.stdout.replace("'", '"')))

    assert "pydantic" in loaded()  # a miss validates
    assert loaded() == []


def test_an_edited_table_is_a_miss(places: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    validations = Validations(monkeypatch)
    load_table(places, table_cache())
    path = places / "environments.toml"
    path.write_text(TABLE.replace('LOG_LEVEL = "INFO"', 'LOG_LEVEL = "DEBUG"'))
    edited = load_table(places, table_cache())
    assert edited["prod"].variables == {"LOG_LEVEL": "DEBUG"}
    assert validations.count == 2 and len(entries(places)) == 2


def _flip(text: str) -> str:
    at = len(text) // 2
    return text[:at] + chr(ord(text[at]) ^ 1) + text[at + 1 :]


@pytest.mark.parametrize(
    "corrupt",
    [
        pytest.param(_flip, id="a-flipped-byte"),
        pytest.param(lambda text: text[: len(text) // 2], id="truncated"),
        pytest.param(lambda text: "0" * 64 + text[64:], id="a-wrong-checksum"),
        pytest.param(lambda text: "", id="empty"),
    ],
)
def test_a_corrupted_entry_is_validated_afresh_and_rewritten(
    places: Path, monkeypatch: pytest.MonkeyPatch, corrupt: Any
) -> None:
    load_table(places, table_cache())
    [entry] = entries(places)
    entry.write_text(corrupt(entry.read_text()))
    want = fresh(places)
    validations = Validations(monkeypatch)
    assert load_table(places, table_cache()) == want
    assert validations.count == 1
    assert unsealed(entry.name, entry.read_text())  # sealed again
    assert load_table(places, table_cache()) == want and validations.count == 1


def test_an_entry_of_another_shape_or_another_key_is_not_trusted(
    places: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checksummed, yet not this table's: what another version wrote, or an entry
    copied under this key's name (its checksum names the other key)."""
    cache = table_cache()
    assert cache is not None
    key = table_key((places / "environments.toml").read_bytes())
    path = cache.path(key)
    want = fresh(places)
    validations = Validations(monkeypatch)
    path.parent.mkdir(parents=True, exist_ok=True)
    for text in (sealed(path.name, {"default": "prod"}), sealed("other.table.json", {})):
        path.write_text(text)
        path.chmod(0o600)
        assert load_table(places, cache) == want
    assert validations.count == 2


def test_an_entry_others_may_read_is_not_trusted(
    places: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_table(places, table_cache())
    [entry] = entries(places)
    entry.chmod(0o644)
    validations = Validations(monkeypatch)
    load_table(places, table_cache())
    assert validations.count == 1 and entry.stat().st_mode & 0o777 == 0o600  # rewritten


@pytest.mark.parametrize(
    ("broken", "kept"),
    [
        pytest.param(TABLE.replace('default = "prod"', 'default = "staging"'), 1, id="schema"),
        pytest.param(TABLE.replace('default = "prod"', "default = "), 1, id="toml"),
        # Valid, so kept; the files it names are checked on every load, hit or not.
        pytest.param(TABLE.replace('["compose.yaml"]', '["x.yaml"]'), 2, id="missing-file"),
    ],
)
def test_a_broken_table_is_the_same_one_line_error_with_or_without_an_entry(
    places: Path, broken: str, kept: int
) -> None:
    load_table(places, table_cache())  # an entry for the version before the edit
    (places / "environments.toml").write_text(broken)
    with pytest.raises(ConfigError) as uncached:
        load_table(places)
    with pytest.raises(ConfigError) as cached:
        load_table(places, table_cache())
    assert str(cached.value) == str(uncached.value)
    assert "\n" not in str(cached.value) and str(places) in str(cached.value)
    assert len(entries(places)) == kept  # a malformed table is never kept


def test_a_missing_file_is_checked_on_a_hit_too(places: Path) -> None:
    load_table(places, table_cache())
    (places / "requirements.txt").unlink()
    with pytest.raises(ConfigError, match=r"content of service 'api' names 'requirements\.txt'"):
        load_table(places, table_cache())


def test_no_cache_writes_nothing(places: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NO_CACHE_VARIABLE, "1")
    assert table_cache() is None
    assert load_table(places, table_cache()) == fresh(places)
    assert not (places.parent / "cache").exists()


def test_an_unusable_cache_directory_still_loads_the_table(
    places: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = places.parent / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(blocker))  # cannot hold a directory
    assert table_cache() is None
    unwritable = TableCache(blocker / "tables")  # handed in anyway: reads and writes fail
    assert load_table(places, unwritable) == fresh(places)
    assert load_table(places, unwritable) == fresh(places)


def test_a_shared_cache_directory_is_not_used(
    places: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tables = places.parent / "cache" / "tables"
    tables.mkdir(parents=True)
    tables.chmod(0o777)
    assert table_cache() is None


def test_only_the_entries_used_last_are_kept(places: Path) -> None:
    path = places / "environments.toml"
    for version in range(KEEP_ENTRIES + 3):
        path.write_text(TABLE.replace("echo done", f"echo {version}"))
        load_table(places, table_cache())
    assert len(entries(places)) == KEEP_ENTRIES


RECORDS: list[tuple[type[Any], type[BaseModel]]] = [
    (table.Environment, schema.Environment),
    (table.EnvironmentTable, schema.EnvironmentTable),
    (guarding.EngineSpec, schema.EngineSpec),
    (guarding.ConfirmSpec, schema.ConfirmSpec),
    (guarding.PolicySpec, schema.PolicySpec),
]


def _default(field: dataclasses.Field[Any]) -> Any:
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return field.default


@pytest.mark.parametrize(("record", "model"), RECORDS, ids=lambda kind: kind.__module__)
def test_the_records_have_the_schemas_fields_and_defaults(
    record: type[Any], model: type[BaseModel]
) -> None:
    assert record.__name__ == model.__name__  # pydantic's messages name the class
    fields = {f.name: f for f in dataclasses.fields(record)}
    assert list(fields) == list(model.model_fields)
    for name, info in model.model_fields.items():
        want = info.get_default(call_default_factory=True)
        want = want.model_dump() if isinstance(want, BaseModel) else want
        have = _default(fields[name])
        if dataclasses.is_dataclass(have) and not isinstance(have, type):
            have = dataclasses.asdict(have)
        required = (info.is_required(), have is dataclasses.MISSING)
        assert required[0] == required[1], name
        if not info.is_required():
            assert have == want, name


def test_the_key_follows_every_module_that_decides_what_a_table_may_say(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A release that renames a policy rule (guarding.py) or a backend (backend.py), or
    edits the schema, reads no entry the old code accepted."""
    import state.resolve.table as table

    sources = []
    for name in ("table_schema.py", "guarding.py", "backend.py"):
        copy = tmp_path / name
        copy.write_text(f"# {name}\n")
        sources.append(copy)
    monkeypatch.setattr(table, "_SCHEMA_SOURCES", tuple(sources))
    before = table_key(b"default = 'prod'\n")
    for source in sources:
        source.write_text(source.read_text() + "# edited\n")
        after = table_key(b"default = 'prod'\n")
        assert after != before, f"{source.name} is not in the key"
        before = after
