"""`just --list` shows every public recipe's whole description: just prints only the
comment line right above a recipe, so each one is described in exactly one line."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RECIPE = re.compile(r"^([a-z][a-z0-9-]*)(?:\s[^:=]*)?:(?!=)")


def described() -> dict[str, list[str]]:
    """Each public recipe, with the comment lines right above it (its attributes skipped)."""
    lines = (REPO / "Justfile").read_text().splitlines()
    found: dict[str, list[str]] = {}
    for index, line in enumerate(lines):
        match = RECIPE.match(line)
        if not match:
            continue
        above: list[str] = []
        private = False
        for earlier in reversed(lines[:index]):
            if earlier.startswith("[private]"):
                private = True
            elif earlier.startswith("["):
                continue
            elif earlier.startswith("#"):
                above.insert(0, earlier.removeprefix("#").strip())
            else:
                break
        if not private:
            found[match[1]] = above
    return found


def test_every_public_recipe_has_a_one_line_description() -> None:
    recipes = described()
    assert {"up", "test", "images", "bench", "down"} <= set(recipes)
    assert {name: text for name, text in recipes.items() if len(text) != 1} == {}


def test_just_list_shows_each_description_whole() -> None:
    just = shutil.which("just") or str(REPO / ".venv/bin/just")
    listed = subprocess.run(
        [just, "--list", "--unsorted"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    for name, (text,) in described().items():
        assert f"# {text}" in listed, name
