"""APP_ENV precedence: command line > .env > default; empty counts as unset."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from state.errors import ConfigError
from state.resolve.appenv import Source
from state.resolve.envfile import escape_non_ascii
from state.resolve.table import load_table
from tests.builders import resolve_file

REPO = Path(__file__).resolve().parents[2]
TABLE = load_table(REPO / "compose")
NAMES = list(TABLE.names)

# Each level is unset (None), set but empty (""), or set to a valid name.
LEVELS = [None, "", "dev"]


@pytest.mark.parametrize(("process", "dotenv"), list(itertools.product(LEVELS, ["test", *LEVELS])))
def test_every_combination_of_levels(
    tmp_path: Path, process: str | None, dotenv: str | None
) -> None:
    env_file = tmp_path / ".env"
    if dotenv is not None:
        env_file.write_text(f"OTHER=1\nAPP_ENV={dotenv}\n")
    process_env = {} if process is None else {"APP_ENV": process}
    resolved = resolve_file(TABLE, process_env, env_file)
    if process:
        assert (resolved.name, resolved.source) == (process, Source.COMMAND_LINE)
    elif dotenv:
        assert (resolved.name, resolved.source) == (dotenv, Source.ENV_FILE)
        assert (resolved.path, resolved.line) == (env_file, 2)
        assert str(resolved) == f"APP_ENV={dotenv} (from {env_file}:2)"
    else:
        assert (resolved.name, resolved.source) == ("prod", Source.DEFAULT)
        assert str(resolved) == "APP_ENV=prod (the default)"


@pytest.mark.parametrize(
    ("content", "expected", "line"),
    [
        pytest.param("export APP_ENV=dev\n", "dev", 1, id="export"),
        pytest.param('APP_ENV="test"\n', "test", 1, id="double-quotes"),
        pytest.param("APP_ENV='dev'\n", "dev", 1, id="single-quotes"),
        pytest.param("APP_ENV=dev # was prod\n", "dev", 1, id="inline-comment"),
        pytest.param("# APP_ENV=dev\nX=1\n", "prod", None, id="commented-out"),
        pytest.param("APP_ENV=dev\nAPP_ENV=test\n", "test", 2, id="duplicate-last-wins"),
        pytest.param("APP_ENV=test\nAPP_ENV=\n", "prod", None, id="duplicate-last-empty"),
        pytest.param("APP_ENV\n", "prod", None, id="key-without-value"),
        pytest.param("  APP_ENV = dev  \n", "dev", 1, id="spaces-around"),
        # Each of these is read as Compose reads it (its `config --environment`):
        pytest.param("APP_ENV: dev\n", "dev", 1, id="yaml-style"),
        pytest.param("APP_ENV='dev'x\n", "dev", 1, id="text-after-closing-quote"),
        pytest.param("APP_ENV=${X:-dev}\n", "dev", 1, id="interpolation-default"),
        pytest.param("MODE=dev\nAPP_ENV=$MODE\n", "dev", 2, id="interpolation-earlier-line"),
        pytest.param("APP_ENV=dev\r\nX=1\r\n", "dev", 1, id="crlf"),
        pytest.param("APP_ENV=dev\nAPP_ENV\n", "dev", 1, id="bare-key-keeps-earlier"),
        pytest.param('APP_ENV="d\\0145v"\n', "dev", 1, id="octal-escape"),
    ],
)
def test_env_file_edge_cases(tmp_path: Path, content: str, expected: str, line: int | None) -> None:
    env_file = tmp_path / ".env"
    env_file.write_bytes(content.encode())
    resolved = resolve_file(TABLE, {}, env_file)
    assert resolved.name == expected
    assert resolved.line == line


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        pytest.param("staging", None, id="unknown"),
        pytest.param("Dev", "did you mean 'dev'?", id="wrong-case"),
        pytest.param(" dev", "did you mean 'dev'?", id="stray-whitespace"),
        pytest.param("tést", "did you mean 'test'?", id="unicode"),
        pytest.param("d\u0435v", "did you mean 'dev'?", id="lookalike"),
        pytest.param("p" * 500, None, id="very-long"),
    ],
)
def test_invalid_value_is_one_line_naming_value_source_and_choices(
    value: str, hint: str | None, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_file(TABLE, {"APP_ENV": value}, tmp_path / ".env")
    message = str(caught.value)
    assert "\n" not in message
    assert "(from the command line)" in message
    assert "use one of prod, dev, test" in message
    assert len(message) < 200
    if hint:
        assert message.endswith(f"({hint})")
    assert escape_non_ascii(value[:40]) in message
    assert message.isascii()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(b"A=\xff\nAPP_ENV=dev\n", "dev", id="non-utf8-byte-in-a-value"),
        pytest.param(b"\xef\xbb\xbfAPP_ENV=dev\n", "dev", id="utf8-bom"),
    ],
)
def test_env_file_bytes_as_compose_reads_them(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_bytes(content)
    assert resolve_file(TABLE, {}, env_file).name == expected


def test_interpolation_looks_in_the_process_environment_first(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("MODE=prod\nAPP_ENV=$MODE\n")
    assert resolve_file(TABLE, {"MODE": "test"}, env_file).name == "test"


@pytest.mark.parametrize(
    ("content", "line", "why"),
    [
        pytest.param(
            "A=1\njunk line without equals\nAPP_ENV=dev\n", 2, "contains a space", id="junk-line"
        ),
        pytest.param(
            'A=1\nPOSTGRES_PASSWORD="Sup3r${secret"\n',
            2,
            "write $$ for a literal $",
            id="bad-interpolation",
        ),
        pytest.param("APP_ENV='dev\nX=1\n", 1, "has no closing '", id="unclosed-quote"),
        pytest.param("{json: 1}\n", 1, "unexpected character '{'", id="json"),
        pytest.param("A=1\nB\udcffC=1\n", 2, "unexpected character '\\xff'", id="byte-in-key"),
    ],
)
def test_a_file_compose_cannot_read_is_refused_with_file_and_line(
    tmp_path: Path, content: str, line: int, why: str
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_bytes(content.encode("utf-8", "surrogateescape"))
    with pytest.raises(ConfigError) as caught:
        resolve_file(TABLE, {"APP_ENV": "dev"}, env_file)  # Compose reads the file anyway
    message = str(caught.value)
    assert message.startswith(f"{env_file}:{line}: ")
    assert why in message
    assert "Sup3r" not in message and "\n" not in message


def test_a_directory_named_env_is_ignored_as_compose_does(tmp_path: Path) -> None:
    (tmp_path / ".env").mkdir()
    assert resolve_file(TABLE, {}, tmp_path / ".env").source == Source.DEFAULT


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_an_explicit_env_file_must_exist(tmp_path: Path, kind: str) -> None:
    env_file = tmp_path / "typo.env"
    if kind == "directory":
        env_file.mkdir()
    with pytest.raises(ConfigError, match=rf"^env file {env_file} (does not exist|is a dir)"):
        resolve_file(TABLE, {}, env_file, required=True)


def test_lookalike_characters_are_shown_escaped(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("APP_ENV=d\u0435v\n")  # a Cyrillic e
    with pytest.raises(ConfigError) as caught:
        resolve_file(TABLE, {}, env_file)
    assert str(caught.value).startswith("APP_ENV='d\\u0435v' (from ")
    assert str(caught.value).endswith("(did you mean 'dev'?)")


def test_invalid_value_in_env_file_names_the_file_and_line(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("A=1\nB=2\nAPP_ENV=develop\n")
    with pytest.raises(ConfigError, match=rf"from {env_file}:3\) .*did you mean 'dev'"):
        resolve_file(TABLE, {}, env_file)


def test_env_file_is_not_written_and_os_environ_untouched(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("APP_ENV=dev\nSECRET=1\n")
    before = (env_file.read_bytes(), env_file.stat().st_mtime_ns, dict(os.environ))
    resolve_file(TABLE, {}, env_file)
    assert (env_file.read_bytes(), env_file.stat().st_mtime_ns, dict(os.environ)) == before


@given(value=st.text(min_size=1).filter(lambda v: v not in NAMES and "\x00" not in v))
def test_any_other_value_raises_the_documented_error(
    tmp_path_factory: pytest.TempPathFactory, value: str
) -> None:
    with pytest.raises(ConfigError, match="is not an environment: use one of prod, dev, test"):
        resolve_file(TABLE, {"APP_ENV": value}, tmp_path_factory.mktemp("e") / ".env")
