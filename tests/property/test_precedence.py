"""APP_ENV precedence as a property (resolve stage): over generated process
environments and .env files with noise around the line, the resolved value is the
highest level that is set and not empty (command line > .env > the table's default).
`just mutants` lets .env win over the command line (`dotenv-beats-command-line`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from state.resolve.table import load_table
from tests.builders import resolve_file

REPO = Path(__file__).resolve().parents[2]
TABLE = load_table(REPO / "compose")

level = st.one_of(st.none(), st.just(""), st.sampled_from(sorted(TABLE.names)))
noise = st.lists(
    st.sampled_from(
        [
            "# comment",
            "",
            "  ",
            "NOEQUALS",
            "FOO=bar",
            "export X=1",
            "APP_ENVX=dev",
            "XAPP_ENV=test",
        ]
    ),
    max_size=5,
)


@given(process=level, dotenv=level, before=noise, after=noise)
def test_resolved_value_is_the_highest_set_level(
    tmp_path_factory: pytest.TempPathFactory,
    process: str | None,
    dotenv: str | None,
    before: list[str],
    after: list[str],
) -> None:
    env_file = tmp_path_factory.mktemp("env") / ".env"
    lines = [*before, *([f"APP_ENV={dotenv}"] if dotenv is not None else []), *after]
    env_file.write_text("\n".join(lines) + "\n")
    environ = {"APP_ENV": process} if process is not None else {}
    expected = process or dotenv or TABLE.default
    assert resolve_file(TABLE, environ, env_file).name == expected
