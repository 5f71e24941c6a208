"""No secret value in any output: the masking hook of `reconcile`, and where secrets come from."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.cli.exit_codes import EXIT_ERROR
from reconciler.cli.main import main
from state import secrets
from state.docker.adapter import DockerEngine
from state.errors import ConfigError, PermanentError
from state.model.desired import desire
from state.resolve.project import load_project

REPO = Path(__file__).resolve().parents[2]
SECRET = "Sup3r-s3cret-value"


@pytest.fixture(autouse=True)
def no_known_secrets() -> Iterator[None]:
    secrets.forget_all()
    yield
    secrets.forget_all()


@pytest.mark.parametrize(
    "name", ["POSTGRES_PASSWORD", "api_token", "Secret", "AWS_ACCESS_KEY_ID", "GIT_CREDENTIALS"]
)
def test_secret_looking_names(name: str) -> None:
    assert secrets.is_secret_name(name)
    assert not secrets.is_secret_name("APP_ENV")


def test_redact_masks_every_form_a_value_is_printed_in() -> None:
    secrets.remember({"DB_PASSWORD": 'a$b"c\u00e9-long', "APP_ENV": "dev", "X_TOKEN": "short"})
    for text in ['a$b"c\u00e9-long', 'a$$b"c\u00e9-long', 'a$b\\"c\\u00e9-long']:
        assert secrets.redact(f"before {text} after") == "before **** after"
    assert secrets.redact("dev short") == "dev short"  # short: masked only as a value
    assert secrets.redact("X_TOKEN=short") == "X_TOKEN=****"


@pytest.mark.parametrize("password", ["spot", "pw4x"])
@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("POSTGRES_PASSWORD={pw}", "POSTGRES_PASSWORD=****"),
        ("  POSTGRES_PASSWORD: {pw}", "  POSTGRES_PASSWORD: ****"),
        ('{{"POSTGRES_PASSWORD": "{pw}"}}', '{{"POSTGRES_PASSWORD": "****"}}'),
        ("PGPASSWORD='{pw}' psql", "PGPASSWORD='****' psql"),
        (
            "db url postgres://postgres:{pw}@db:5432/spot",
            "db url postgres://postgres:****@db:5432/spot",
        ),
        ("password={pw}, user=postgres", "password=****, user=postgres"),
        # names stay readable: the project, its containers, a profile, a plain word
        ("project {pw} · {pw}-db-1 running", "project {pw} · {pw}-db-1 running"),
        (
            '{{"project": "{pw}", "container": "{pw}-db-1"}}',
            '{{"project": "{pw}", "container": "{pw}-db-1"}}',
        ),
    ],
)
def test_a_short_password_is_masked_wherever_it_stands_as_a_value(
    password: str, text: str, shown: str
) -> None:
    """The stack's own default password `spot` (also its project name in a checkout named
    spot) and any 4-character one: masked as a value, readable as a name."""
    secrets.remember({"POSTGRES_PASSWORD": password})
    assert secrets.redact(text.format(pw=password)) == shown.format(pw=password)


def test_every_output_of_the_cli_is_masked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # The value reaches the one-line error through APP_ENV; the same value is a token.
    monkeypatch.setenv("DEPLOY_TOKEN", SECRET)
    monkeypatch.setenv("APP_ENV", SECRET)
    assert main(["--plan", "--project-directory", str(REPO)]) == EXIT_ERROR
    captured = capsys.readouterr()
    assert captured.err == (
        "reconcile: APP_ENV='****' (from the command line) is not an environment: "
        "use one of prod, dev, test\n"
    )


def test_the_verbose_log_is_masked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from reconciler.cli.redaction import redacted_output

    secrets.remember({"PASSWORD": SECRET})
    handler = logging.StreamHandler()  # created inside: writes to the masked stderr
    with redacted_output():
        handler.setStream(__import__("sys").stderr)
        handler.emit(logging.makeLogRecord({"msg": "compose said %s", "args": (SECRET,)}))
        print(f"stdout {SECRET}")
    captured = capsys.readouterr()
    assert SECRET not in captured.out + captured.err
    assert "compose said ****" in captured.err


def test_secrets_of_the_env_file_and_the_compose_model_are_known(tmp_path: Path) -> None:
    (tmp_path / "compose").symlink_to(REPO / "compose")
    (tmp_path / ".env").write_text(f"POSTGRES_PASSWORD={SECRET}\nLOG=plain-value\n")
    project = load_project(tmp_path, process_env={"GH_TOKEN": "from-the-process"})
    assert secrets.redact(f"{SECRET} from-the-process plain-value") == "**** **** plain-value"

    class Source:
        def compose_model(self) -> dict[str, object]:
            return {
                "name": "p",
                "services": {
                    "a": {"image": "i", "environment": {"API_KEY": "in-the-compose-file"}}
                },
            }

        def config_hashes(self) -> dict[str, str]:
            return {"a": "h"}

        def image_ids(self, references: object) -> dict[str, str]:
            return {"i": "sha256:1"}

        def service_names_in_any_profile(self) -> frozenset[str]:
            return frozenset({"a"})

        def declared_profiles(self) -> frozenset[str]:
            return frozenset()

        def use_content_override(self, path: Path) -> None:
            pass

    desire(project, Source())
    assert secrets.redact("in-the-compose-file") == "****"


def test_a_compose_error_about_the_env_file_blames_the_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "compose").symlink_to(REPO / "compose")
    env_file = tmp_path / ".env"
    env_file.write_text("A=1\n")
    engine = DockerEngine(load_project(tmp_path, process_env={}))

    def fails(*args: str, what: str) -> str:
        raise PermanentError(f"{what} failed: failed to read {env_file}: line 1: oops")

    monkeypatch.setattr(engine, "_compose", fails)
    with pytest.raises(ConfigError) as caught:
        engine.compose_model()
    assert str(caught.value).endswith(f"; fix {env_file}")


def test_a_secret_is_not_masked_inside_a_longer_name_nor_when_it_is_a_name() -> None:
    """Real projects (tests/corpus: sentry, langfuse) give secrets the values of their
    service names: `sentry-cleanup` stays readable, and so does a service named like its
    password; the same value standing alone as a value is still masked."""
    secrets.remember({"AWS_SECRET_ACCESS_KEY": "sentry", "POSTGRES_PASSWORD": "postgres"})
    assert secrets.redact("+ create sentry-cleanup") == "+ create sentry-cleanup"
    assert secrets.redact("key sentry here") == "key **** here"
    secrets.spare({"postgres", "web"})
    assert secrets.redact("+ create    postgres   no container") == (
        "+ create    postgres   no container"
    )
    secrets.remember({"DB_PASSWORD": "postgres"})  # a name stays spared
    assert secrets.redact("password postgres") == "password postgres"


def test_a_secret_equal_to_part_of_an_image_name_leaves_the_image_readable() -> None:
    """immich's .env has DB_PASSWORD=postgres and an image .../postgres:14: the plan
    must still say which image will be pulled."""
    reference = "ghcr.io/immich-app/postgres:14-vectorchord0.4.3@sha256:abc"
    assert secrets.image_name_parts(reference) == {"ghcr.io", "immich-app", "postgres"}
    assert secrets.image_name_parts("localhost:5000/app:dev") == {"localhost:5000", "app"}
    secrets.remember({"DB_PASSWORD": "postgres", "API_TOKEN": "immich-app-token"})
    secrets.spare(secrets.image_name_parts(reference))
    line = f"image {reference} will be pulled; token immich-app-token"
    assert secrets.redact(line) == f"image {reference} will be pulled; token ****"
