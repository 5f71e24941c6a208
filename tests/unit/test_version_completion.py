"""`reconcile --version` from the package metadata, and click's shell completion."""

from __future__ import annotations

from importlib.metadata import version

import pytest

from reconciler.cli.main import main


def test_version_comes_from_the_package_metadata(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"reconcile, version {version('spot-reconciler')}\n"


def complete(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], mode: str, words: str = ""
) -> str:
    monkeypatch.setenv("_RECONCILE_COMPLETE", mode)
    monkeypatch.setenv("COMP_WORDS", words)
    monkeypatch.setenv("COMP_CWORD", str(len(words.split(" ")) - 1))
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_bash_completion_script_is_produced(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    script = complete(monkeypatch, capsys, "bash_source")
    assert "_reconcile_completion()" in script
    assert "complete -o nosort -F _reconcile_completion reconcile" in script


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("reconcile st", {"status", "stop"}),
        ("reconcile --format ", {"text", "json"}),
        ("reconcile status --format j", {"json"}),
    ],
)
def test_completion_offers_command_names_and_format_values(
    words: str,
    expected: set[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines = complete(monkeypatch, capsys, "bash_complete", words).splitlines()
    assert {line.split(",", 1)[1] for line in lines} == expected
