"""`just bench [--sizes 10,50 --plain-sizes 50 --repeat 3 --only compare,floor,... --json PATH]`.

Sections:
- compare: the synthetic project at each size, reconcile against Compose's own
  command, scenario by scenario, alternating; the ratio tables; engine calls per
  plan, counted; then a plain project (--plain-sizes: no healthcheck, no depends_on)
  on the read and stop/start scenarios;
- idle: the real stack's idle CPU in each environment;
- planner: plan() alone on generated states of 1,000 to 10,000 services;
- stack: the real stack's stop times against their targets;
- floor: what `reconcile status` costs before its first engine call, layer by layer;
- downtime: failed requests and the longest gap per published service during an env
  switch and a config change, reconcile (stop-first, start-first) against Compose.
Everything measured goes to the JSON file. Timing lives here, never in tests; the
exit code is 1 only when a command failed (or, with --strict, a target was missed).
"""

from __future__ import annotations

import argparse
import compileall
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.bench import downtime, first_line, floor, idle, planner, report, stack
from tests.bench.scenarios import GROUPS, Result, Runner
from tests.bench.synthetic import SyntheticProject
from tests.bench.tools import Ours, engine_calls_per_run
from tests.integration.plain_stack import REPO, require_engine

SECTIONS = ("compare", "floor", "idle", "planner", "stack", "downtime")
PLAIN_GROUPS = ("noop", "status", "stop-start")


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _short(call: str, keep: int = 60) -> str:
    """A docker command line, its middle (files, ids) elided past 2 * keep characters."""
    return call if len(call) <= 2 * keep else f"{call[:keep]} ... {call[-keep:]}"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="just bench",
        description="Benchmark reconcile against Compose's own commands, the real stack's "
        "idle CPU and plan() at scale; print the tables and write them as JSON.",
    )
    parser.add_argument("--sizes", default="10,50,200", help="services per synthetic project")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per tool and scenario")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated: {SECTIONS}")
    parser.add_argument("--scenarios", default=",".join(GROUPS), help=f"comma-separated: {GROUPS}")
    parser.add_argument(
        "--plain-sizes",
        default="50",
        help="services per plain project (no healthcheck, no depends_on; '' for none), "
        f"compared on {PLAIN_GROUPS}",
    )
    parser.add_argument("--idle-seconds", type=float, default=20.0, help="idle CPU window")
    parser.add_argument("--planner-sizes", default="1000,2000,5000,10000", help="services")
    parser.add_argument(
        "--downtime-repeat", type=int, default=1, help="repetitions of each downtime change"
    )
    parser.add_argument("--json", type=Path, default=REPO / "bench-results.json", help="output")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return parser.parse_args(argv)


def compare(args: argparse.Namespace) -> tuple[dict[str, Any], bool]:
    sizes = [int(n) for n in _csv(args.sizes)]
    groups = tuple(_csv(args.scenarios))
    by_size: dict[int, dict[str, Result]] = {}
    calls: dict[int, list[str]] = {}
    cached: dict[int, list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="spotbench-") as root:
        for size in sizes:
            project = SyntheticProject.create(Path(root), size)
            print(f"== N={size}: project {project.name}", flush=True)
            try:
                runner = Runner(project, args.repeat, lambda line: print(line, flush=True))
                by_size[size] = runner.run(groups)
                miss, hit = engine_calls_per_run(
                    Ours(project), "--plan", app_env="prod", expect=(0,), runs=2
                )
                calls[size] = [_short(call) for call in miss]
                cached[size] = [_short(call) for call in hit]
            finally:
                project.remove_everything()
            print(report.size_table(size, args.repeat, by_size[size], calls[size]), flush=True)
            print(f"  ... with the compose-config cache answering: {len(cached[size])}")
    print()
    print(report.ratio_table(by_size))
    for label, found in (("", calls), (" (config cache hit)", cached)):
        counts = {n: len(c) for n, c in found.items()}
        print(
            f"engine calls per no-op plan{label}: {counts} (the same at every size: "
            f"{'yes' if len(set(counts.values())) <= 1 else 'NO'})"
        )
    missed = missed_any(by_size, plain=False)
    document = report.comparison_json(args.repeat, by_size, calls)
    document["engine_calls_per_plan_cache_hit"] = {str(n): c for n, c in cached.items()}
    plain, first, plain_missed = compare_plain(args)
    document["plain"] = report.comparison_json(args.repeat, plain, {}, plain=True)
    document["first_line"] = {str(n): found for n, found in first.items()}
    return document, missed or plain_missed


def compare_plain(
    args: argparse.Namespace,
) -> tuple[dict[int, dict[str, Result]], dict[int, dict[str, Any]], bool]:
    """The plain project beside the bench project: no healthcheck, so Compose's own no-op
    `up -d` is at its cheapest (issue 23); the read and stop/start scenarios, then each
    command's time to its first line of output on it, converged."""
    groups = tuple(g for g in _csv(args.scenarios) if g in PLAIN_GROUPS)
    by_size: dict[int, dict[str, Result]] = {}
    first: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="spotbench-plain-") as root:
        for size in [int(n) for n in _csv(args.plain_sizes)]:
            project = SyntheticProject.create(Path(root), size, plain=True)
            print(f"== plain N={size}: project {project.name}", flush=True)
            try:
                runner = Runner(project, args.repeat, lambda line: print(line, flush=True))
                by_size[size] = runner.run(groups)
                Ours(project).up("prod")
                first[size] = first_line.main(Ours(project), args.repeat)
            finally:
                project.remove_everything()
            table = report.size_table(size, args.repeat, by_size[size], None, plain=True)
            print(table.replace(f"N={size}:", f"plain N={size}:", 1), flush=True)
    return by_size, first, missed_any(by_size, plain=True)


def missed_any(by_size: dict[int, dict[str, Result]], plain: bool) -> bool:
    """A scenario over its target (on the plain project: its plain target) at some size."""
    return any(
        (wanted := r.scenario.target_on(plain)) is not None
        and r.ours.median / r.compose.median > wanted
        for results in by_size.values()
        for r in results.values()
    )


STATE_VARIABLES = ("RECONCILE_LOCK_DIR", "RECONCILE_STATE_DIR", "RECONCILE_CACHE_DIR")


def own_state_dirs(root: Path) -> None:
    """The bench's reconcile runs keep their locks, journals, history and caches under
    `root`, never in the user's ~/.local/state or ~/.cache: every command this process
    starts inherits them (0700, as the tool requires of its places)."""
    for variable in STATE_VARIABLES:
        place = root / variable.removeprefix("RECONCILE_").removesuffix("_DIR").lower()
        place.mkdir(mode=0o700)
        os.environ[variable] = str(place)


def compiled() -> None:
    """Bytecode for the measured modules first (what a first run writes, unless
    PYTHONDONTWRITEBYTECODE is set, as on the CI machines): without it each command
    pays ~0.05 s of compiling, and a clone made for a "before" run would too."""
    for package in ("reconciler", "state"):
        compileall.compile_dir(REPO / package, quiet=2)


def main(argv: list[str]) -> int:
    compiled()
    with tempfile.TemporaryDirectory(prefix="spotbench-state-") as root:
        os.chmod(root, 0o700)
        own_state_dirs(Path(root))
        return run(argv)


def run(argv: list[str]) -> int:
    args = parse(argv)
    sections = _csv(args.only)
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        print(f"unknown section(s) {sorted(unknown)}; choose from {SECTIONS}", file=sys.stderr)
        return 64
    document: dict[str, Any] = {"conditions": report.conditions()}
    missed = False
    if "planner" in sections:
        document["planner"] = planner.main([int(n) for n in _csv(args.planner_sizes)])
    if set(sections) & {"compare", "idle", "stack", "downtime"}:
        # compare and downtime run busybox projects only; idle and stack the real stack
        require_engine(images=bool(set(sections) & {"idle", "stack"}))
    if "compare" in sections:
        document["compare"], missed = compare(args)
    if "floor" in sections:
        document["status_floor"] = floor.main()
    if "idle" in sections:
        document["idle_cpu"] = idle.main(args.idle_seconds)
    if "stack" in sections:
        document["stack"], stack_missed = stack.main()
        missed = missed or stack_missed
    if "downtime" in sections:
        sizes = [int(n) for n in _csv(args.sizes)]
        document["downtime"] = downtime.main(
            sizes, args.downtime_repeat, lambda line: print(line, flush=True)
        )
    document["conditions"]["load_average_after"] = report.conditions()["load_average"]
    report.write_json(args.json, document)
    print(f"wrote {args.json}")
    failed = bool(document.get("downtime", {}).get("failed"))  # the others raise
    return 1 if failed or (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
