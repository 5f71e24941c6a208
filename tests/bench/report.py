"""The report: the ratio tables people read, and the JSON document scripts read."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.bench.scenarios import SCENARIOS, Result
from tests.bench.stats import cpu_ratio, ratio

SCHEMA_VERSION = 1


def _cell(result: Result, which: str) -> str:
    samples = result.ours if which == "ours" else result.compose
    return f"{samples.median:7.2f} ±{samples.spread:5.2f}"


def size_table(
    size: int,
    repeat: int,
    results: dict[str, Result],
    calls: list[str] | None,
    plain: bool = False,
) -> str:
    """One size: median and spread (max - min) of each tool, the ratio, the target."""
    lines = [
        f"N={size}: {repeat} repetition(s), tools alternating; wall seconds, median ±(max-min);"
        " cpu: ratio of client-side CPU time",
        f"{'scenario':<24} {'reconcile':>14} {'compose':>14} {'ratio':>7} {'cpu':>7}  target",
    ]
    for scenario in SCENARIOS:
        result = results.get(scenario.key)
        if result is None:
            continue
        r = ratio(result.ours, result.compose)
        wanted = scenario.target_on(plain)
        target = f"<= {wanted:.2f}x" if wanted else "-"
        verdict = "" if not wanted else ("ok" if r <= wanted else "MISS")
        lines.append(
            f"{scenario.title:<24} {_cell(result, 'ours'):>14} {_cell(result, 'compose'):>14} "
            f"{r:6.2f}x {cpu_ratio(result.ours, result.compose):6.2f}x  {target} {verdict}"
        )
    if calls is not None:
        lines.append(f"engine calls per no-op plan (docker processes, counted): {len(calls)}")
    return "\n".join(lines)


def ratio_table(by_size: dict[int, dict[str, Result]]) -> str:
    """Every scenario's ratio (ours / Compose, medians) at every size."""
    sizes = sorted(by_size)
    lines = [f"{'ratio ours/compose':<24} " + " ".join(f"{'N=' + str(n):>8}" for n in sizes)]
    for scenario in SCENARIOS:
        cells = []
        for n in sizes:
            result = by_size[n].get(scenario.key)
            cells.append(f"{ratio(result.ours, result.compose):7.2f}x" if result else "       -")
        if any(c.strip() != "-" for c in cells):
            lines.append(f"{scenario.title:<24} " + " ".join(cells))
    return "\n".join(lines)


def conditions() -> dict[str, Any]:
    """What the numbers were measured on: they mean nothing without it."""

    def output(*command: str) -> str:
        try:
            proc = subprocess.run(command, capture_output=True, text=True, timeout=30)
            return proc.stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return "?"

    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "docker_server": output("docker", "version", "--format", "{{.Server.Version}}"),
        "compose": output("docker", "compose", "version", "--short"),
        "commit": output("git", "rev-parse", "--short", "HEAD"),
    }


def comparison_json(
    repeat: int,
    by_size: dict[int, dict[str, Result]],
    calls: dict[int, list[str]],
    plain: bool = False,
) -> dict[str, Any]:
    sizes: dict[str, Any] = {}
    for n, results in sorted(by_size.items()):
        sizes[str(n)] = {
            "engine_calls_per_plan": len(calls.get(n, [])),
            "engine_calls": calls.get(n, []),
            "scenarios": {
                key: {
                    "title": r.scenario.title,
                    "ours_command": r.scenario.ours,
                    "compose_command": r.scenario.compose,
                    "target_ratio": r.scenario.target_on(plain),
                    "ratio": round(ratio(r.ours, r.compose), 3),
                    "cpu_ratio": round(cpu_ratio(r.ours, r.compose), 3),
                    "ours": r.ours.as_json(),
                    "compose": r.compose.as_json(),
                }
                for key, r in results.items()
            },
        }
    return {"repeat": repeat, "sizes": sizes}


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps({"schema_version": SCHEMA_VERSION, **document}, indent=2) + "\n")
