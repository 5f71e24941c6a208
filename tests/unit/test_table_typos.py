"""A name in the environment table that matches nothing is a one-line error naming the
table, the key and the closest valid name (reconciler/reads/table_checks.py,
state/resolve/table.py): it used to be silently ignored or overridden."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reconciler.cli.main import main
from state.resolve.project import COMPOSE_DIR
from tests.builders import desired, service
from tests.memory_engine import MemoryEngine

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            (
                '# [content]\n# api-gateway = ["../services/api-gateway/requirements.txt"]',
                '[content]\napi-gatway = ["environments.toml"]',
            ),
            "[content] names service 'api-gatway', which no compose file defines "
            "(did you mean 'api-gateway'?)",
        ),
        (
            ('profiles = ["dev"]', 'profiles = ["dve"]'),
            "environments.dev.profiles names 'dve', which no service has (did you mean 'dev'?)",
        ),
        (
            (
                'variables = { LOG_LEVEL = "DEBUG" }',
                'variables = { LOG_LEVEL = "DEBUG", COMPOSE_PROFILES = "dev" }',
            ),
            "environments.dev: Value error, COMPOSE_PROFILES is set from the environment's "
            "`profiles`: list them there",
        ),
    ],
    ids=["content-service", "profile", "compose-profiles-variable"],
)
def test_a_typo_in_the_table_is_one_line_naming_the_key(
    edit: tuple[str, str],
    expected: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shutil.copytree(REPO / COMPOSE_DIR, tmp_path / COMPOSE_DIR, ignore=lambda d, n: ["images"])
    table = tmp_path / COMPOSE_DIR / "environments.toml"
    text = table.read_text()
    assert edit[0] in text
    table.write_text(text.replace(edit[0], edit[1], 1))
    monkeypatch.setenv("APP_ENV", "dev")
    engine = MemoryEngine(desired(service("api-gateway"), service("db")))
    code = main(["--plan", "--project-directory", str(tmp_path)], engine=lambda project: engine)
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err, err
    assert str(table) in err and expected in err, err
    assert engine.writes == []
