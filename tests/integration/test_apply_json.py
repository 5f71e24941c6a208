"""`reconcile --format json` on the real engine: one document on stdout, progress on stderr."""

from __future__ import annotations

import json

from tests.integration.plain_stack import PlainStack, reconcile

BASE = {"db", "api-gateway", "analyzer-nlp", "analyzer-llm"}


def test_apply_restart_stop_and_down_print_one_json_document(stack: PlainStack) -> None:
    result = reconcile(stack, "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)  # the whole of stdout is one document
    assert (document["command"], document["project"], document["exit_code"]) == (
        "apply",
        stack.name,
        0,
    )
    assert document["app_env"]["name"] == "prod"
    assert document["converged"] is True and document["remaining"] == []
    assert {o["service"] for o in document["outcomes"]} == BASE
    assert {o["status"] for o in document["outcomes"]} == {"done"}
    assert all(o["seconds"] >= 0 for o in document["outcomes"]) and document["seconds"] > 0
    assert "Applying:" in result.stderr and "Converged" in result.stderr
    assert stack.running_services() == BASE

    again = json.loads(reconcile(stack, "--format", "json").stdout)
    assert (again["outcomes"], again["converged"], again["exit_code"]) == ([], True, 0)

    restarted = reconcile(stack, "restart", "--format", "json", "--no-wait")
    assert restarted.returncode == 0, restarted.stderr
    document = json.loads(restarted.stdout)
    assert document["command"] == "restart"
    assert document["summary"] == {
        "done": 2 * len(BASE),
        "failed": 0,
        "skipped": 0,
        "rolled back": 0,
    }

    for command, kind in (("stop", "stop"), ("down", "remove")):
        result = reconcile(stack, command, "--format", "json")
        assert result.returncode == 0, result.stderr
        document = json.loads(result.stdout)
        assert (document["command"], document["exit_code"]) == (command, 0)
        assert {(o["service"], o["kind"], o["status"]) for o in document["outcomes"]} == {
            (service, kind, "done") for service in BASE
        }
    assert stack.containers() == []
    assert document["networks"]["removed"] == [f"{stack.name}_default"]
