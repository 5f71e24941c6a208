"""The environment table: the shipped one says what the spec says; bad tables fail clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from state.errors import ConfigError
from state.resolve.table import load_table

REPO = Path(__file__).resolve().parents[2]


def test_shipped_table_matches_the_spec() -> None:
    table = load_table(REPO / "compose")
    assert table.default == "prod"
    assert table.names == ("prod", "dev", "test")
    assert table["prod"].profiles == ()
    assert table["dev"].profiles == ("dev",)
    assert table["test"].profiles == ("dev", "test")
    assert table["test"].variables["LOG_LEVEL"] == "WARNING"
    assert table["prod"].files == ("compose.yaml",)


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "compose.yaml").write_text("services: {}\n")
    (tmp_path / "environments.toml").write_text(text)
    return tmp_path


GOOD_ROW = 'description = "x"\nfiles = ["compose.yaml"]\n'


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        pytest.param("", "default", id="empty"),
        pytest.param(
            'default = "prod"\n[environments.dev]\n' + GOOD_ROW,
            "default 'prod' is not one",
            id="default-not-listed",
        ),
        pytest.param(
            'default = "prod"\n[environments.prod]\ndescription = "x"\nfiles = []\n',
            "environments.prod.files",
            id="no-files",
        ),
        pytest.param(
            'default = "prod"\n[environments.prod]\n' + GOOD_ROW + "colour = 'red'\n",
            "environments.prod.colour",
            id="unknown-key",
        ),
        pytest.param(
            'default = "prod"\n[environments.prod]\n'
            + GOOD_ROW
            + 'variables = { APP_ENV = "x" }\n',
            "APP_ENV is set by the reconciler",
            id="app-env-in-variables",
        ),
        pytest.param(
            'default = "prod"\n[environments.Prod]\n' + GOOD_ROW, "environments.Prod", id="bad-name"
        ),
        pytest.param("default = \n", "cannot be read", id="not-toml"),
        pytest.param(
            'default = "prod"\n[environments.prod]\ndescription = "x"\nfiles = ["missing.yaml"]\n',
            "names 'missing.yaml'",
            id="missing-file",
        ),
    ],
)
def test_malformed_table_is_one_clear_error(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_table(write(tmp_path, text))
    message = str(caught.value)
    assert fragment in message
    assert "\n" not in message


def test_missing_table_says_where_to_run(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--project-directory"):
        load_table(tmp_path)
