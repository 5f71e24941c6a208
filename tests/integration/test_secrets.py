"""No command shows a secret.

A password in .env and a token in the compose file, both also printed by a container
at start (so `logs` would show them); every command run with -v, in text and JSON:
neither value appears in any stdout or stderr.
"""

from __future__ import annotations

from pathlib import Path

from tests.integration.plain_stack import PlainStack, reconcile

IN_ENV_FILE = "Sup3r-env-s3cret-4f9a"
IN_COMPOSE_FILE = "Sup3r-compose-t0ken-7c1d"
LEAKY_WORKER = f"""\
  analyzer-nlp:
    <<: *service
    image: spot-app:local
    command: ["sh", "-c", "echo token $$API_TOKEN db $$POSTGRES_PASSWORD;
              exec python3 /app/services/analyzer/worker.py nlp"]
    environment:
      <<: *env
      API_TOKEN: {IN_COMPOSE_FILE}
      POSTGRES_PASSWORD: ${{POSTGRES_PASSWORD:-spot}}
"""

COMMANDS = [
    ("--plan",),
    ("--plan", "--format", "json"),
    (),  # apply
    ("status",),
    ("status", "--format", "json"),
    ("logs",),
    ("logs", "analyzer-nlp", "--tail", "5"),
    ("stop",),
    ("down",),
]


def test_no_command_prints_a_secret(tmp_path: Path) -> None:
    stack = PlainStack.create(tmp_path, "prod", label="secrets")
    compose_file = stack.directory / "compose" / "compose.yaml"
    text = compose_file.read_text()
    start = text.index("  analyzer-nlp:\n")
    end = text.index("    healthcheck:", start)
    compose_file.write_text(text[:start] + LEAKY_WORKER + text[end:])
    env_file = stack.directory / ".env"
    env_file.write_text(env_file.read_text() + f'POSTGRES_PASSWORD="{IN_ENV_FILE}"\n')
    try:
        outputs = {}
        for args in COMMANDS:
            result = reconcile(stack, "-v", *args, app_env="prod")
            assert result.returncode in (0, 2), (args, result.stderr)
            outputs[" ".join(args) or "apply"] = result.stdout + result.stderr
            if args == ("logs",):  # the values did reach the stack, else this proves nothing
                worker = stack.compose("logs", "analyzer-nlp").stdout
                assert f"token {IN_COMPOSE_FILE} db {IN_ENV_FILE}" in worker
                assert "token **** db ****" in result.stdout
        # ... and no output of ours shows them.
        leaks = {
            command: secret
            for command, output in outputs.items()
            for secret in (IN_ENV_FILE, IN_COMPOSE_FILE)
            if secret in output
        }
        assert leaks == {}
    finally:
        stack.remove_everything()


SHORT_LEAKER = """\
  analyzer-nlp:
    <<: *service
    image: spot-app:local
    command: ["sh", "-c", "echo POSTGRES_PASSWORD=$$POSTGRES_PASSWORD
              url=postgres://postgres:$$POSTGRES_PASSWORD@db/spot;
              exec python3 /app/services/analyzer/worker.py nlp"]
    environment:
      <<: *env
      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-spot}
"""


def test_the_default_short_password_is_masked_in_logs_names_stay(tmp_path: Path) -> None:
    """`spot` (the stack's default password, 4 characters) as a value is masked; the
    containers' names, which hold `spot` too, stay readable."""
    stack = PlainStack.create(tmp_path, "prod", label="short-secret")
    compose_file = stack.directory / "compose" / "compose.yaml"
    text = compose_file.read_text()
    start = text.index("  analyzer-nlp:\n")
    end = text.index("    healthcheck:", start)
    compose_file.write_text(text[:start] + SHORT_LEAKER + text[end:])
    try:
        assert reconcile(stack, app_env="prod").returncode == 0
        worker = stack.compose("logs", "analyzer-nlp").stdout
        assert "POSTGRES_PASSWORD=spot url=postgres://postgres:spot@db/spot" in worker
        shown = reconcile(stack, "logs", "analyzer-nlp", app_env="prod").stdout
        assert "POSTGRES_PASSWORD=**** url=postgres://postgres:****@db/spot" in shown
        assert "analyzer-nlp-1" in shown
    finally:
        stack.remove_everything()
