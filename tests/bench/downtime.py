"""`just bench --only downtime`: what a user of each published service sees during a change.

For each size, three copies of the downtime project (tests/bench/downtime_project.py),
each under its own project name: `reconcile` on the stop-first project, `reconcile` on
the start-first project, and `docker compose up -d --wait` on the stop-first project
(Compose ignores `order` locally). All three are brought up in prod; then, one copy at
a time and in alternating order per repetition, each goes through two changes: the
env switch prod -> dev (every service recreated) and a config change of one stateless
published service (back to prod, unmeasured, between repetitions). During each, a
probe container on the project's network requests every published service by its
name every PROBE_INTERVAL_MS (what a reverse proxy on that network would see; during a
start-first recreate the name answers with the old and the new container) and prints
one line per request; `summarize` turns those lines into requests sent, failed, and
the longest gap. A start-first column whose plan does not say `(start-first)` is
reported as not honoured, without numbers.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.bench import downtime_project
from tests.bench.synthetic import IMAGE, SyntheticProject, layout
from tests.bench.tools import Compose, Ours, ToolFailed

PROBE_INTERVAL_MS = 50
REQUEST_TIMEOUT_S = 1
WARMUP_S = 10.0  # the longest wait for every service's first answer before a change
TAIL_S = 2.0  # probing goes on this long after the tool returned
START_FIRST_MARK = "(start-first)"
NOT_HONOURED = "not honoured by this build"
COLUMNS = ("ours stop-first", "ours start-first", "compose")
SCENARIOS = ("env switch prod -> dev", "config change of one service")
# Busybox wget's own -T crashes in this image: `timeout` bounds each request instead.
PROBE = """\
probe() {{
  while :; do
    read t _ < /proc/uptime
    if timeout {timeout} wget -q -O /dev/null "http://$1:{port}/" 2>/dev/null
    then echo "$1 $t ok"; else echo "$1 $t fail"; fi
    usleep {interval}
  done
}}
for s in {services}; do probe "$s" & done
wait
"""


@dataclass(frozen=True)
class ProbeStats:
    """One published service during one change, as the probe saw it."""

    sent: int
    failed: int
    longest_gap_ms: float  # first failed request of the longest run -> next answered one
    recovered: bool  # the service answered again before the probe stopped

    def as_json(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "longest_gap_ms": round(self.longest_gap_ms),
            "recovered": self.recovered,
        }


@dataclass(frozen=True)
class Measured:
    """One tool through one change: its wall time and each published service's stats,
    or `honoured` False when the build did not recreate start-first (no numbers)."""

    honoured: bool
    wall_s: float = 0.0
    services: tuple[tuple[str, ProbeStats], ...] = ()
    plan: tuple[str, ...] = ()  # the start-first column's plan lines, as evidence

    def as_json(self) -> dict[str, Any]:
        if not self.honoured:
            return {"honoured": False, "plan": list(self.plan)}
        return {
            "honoured": True,
            "wall_s": round(self.wall_s, 2),
            "services": {name: stats.as_json() for name, stats in self.services},
            **({"plan": list(self.plan)} if self.plan else {}),
        }


def parse(lines: Iterable[str]) -> dict[str, list[tuple[float, bool]]]:
    """The probe's lines (`SERVICE UPTIME ok|fail`) as each service's (seconds, answered)."""
    found: dict[str, list[tuple[float, bool]]] = {}
    for line in lines:
        parts = line.split()
        if len(parts) != 3 or parts[2] not in ("ok", "fail"):
            continue  # a line torn by the probe's stop, or noise
        try:
            seconds = float(parts[1])
        except ValueError:
            continue
        found.setdefault(parts[0], []).append((seconds, parts[2] == "ok"))
    return found


def summarize(samples: list[tuple[float, bool]], since: float, until: float) -> ProbeStats:
    """Requests started in [since, until]: how many, how many failed, and the longest gap:
    from the first failed request of a run of failures to the next request answered (its
    start), or to the last request sent when none was answered again."""
    window = sorted(s for s in samples if since <= s[0] <= until)
    longest, start, recovered = 0.0, None, True
    for seconds, ok in window:
        if not ok and start is None:
            start = seconds
        elif ok and start is not None:
            longest, start = max(longest, seconds - start), None
    if start is not None:
        longest, recovered = max(longest, window[-1][0] - start), False
    failed = sum(1 for _, ok in window if not ok)
    return ProbeStats(len(window), failed, longest * 1000, recovered)


def _cell(runs: list[Measured], service: str | None) -> str:
    """Each column's cell: failed/sent summed over the repetitions, the longest gap (its
    median and maximum over them when there are several); the median wall time."""
    if not runs:
        return "-"
    if not all(m.honoured for m in runs):
        return NOT_HONOURED
    if service is None:
        wall = f"{statistics.median(m.wall_s for m in runs):.1f} s"
        return wall + (f" (median of {len(runs)})" if len(runs) > 1 else "")
    found = [dict(m.services)[service] for m in runs if service in dict(m.services)]
    if not found:
        return "-"
    failed, sent = sum(s.failed for s in found), sum(s.sent for s in found)
    if not failed:
        return f"0/{sent} failed, no gap"
    gaps = [s.longest_gap_ms for s in found]
    gap = f"{max(gaps):.0f} ms"
    if len(gaps) > 1:
        gap = f"med {statistics.median(gaps):.0f}, max {gap}"
    back = "" if all(s.recovered for s in found) else " (not back)"
    return f"{failed}/{sent} failed, gap {gap}{back}"


def table(size: int, results: dict[str, dict[str, list[Measured]]], services: list[str]) -> str:
    """One size: per change and published service, each column's failed/sent requests and
    longest gap; then each column's wall time for the change."""
    width = 42
    repeats = max((len(runs) for by in results.values() for runs in by.values()), default=0)
    lines = [
        f"N={size}: downtime per published service, probed every {PROBE_INTERVAL_MS} ms "
        f"by name from the project network, {repeats} repetition(s); failed/sent requests, "
        "longest gap (first failed request to the next answered one)",
        f"{'change':<30} {'service':<8} " + " ".join(f"{c:<{width}}" for c in COLUMNS),
    ]
    for scenario in SCENARIOS:
        by_column = {c: results.get(c, {}).get(scenario, []) for c in COLUMNS}
        for index, service in enumerate([*services, None]):
            title = scenario if index == 0 else ""
            name = service or "(wall)"
            cells = " ".join(f"{_cell(by_column[c], service):<{width}}" for c in COLUMNS)
            lines.append(f"{title:<30} {name:<8} {cells}".rstrip())
    return "\n".join(lines)


def _uptime() -> float:
    """The kernel's uptime, the clock the probe's lines carry (containers share it)."""
    return float(Path("/proc/uptime").read_text().split()[0])


def _docker(*args: str, check: bool = True) -> str:
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120)
    if check and proc.returncode != 0:
        raise ToolFailed(f"docker {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
    return proc.stdout


class Probe:
    """A busybox container on the project's network requesting each service by name."""

    def __init__(self, project: SyntheticProject, services: list[str]) -> None:
        self.name = f"{project.name}-probe"
        self.services = services
        label = f"label=com.docker.compose.project={project.name}"
        networks = _docker("network", "ls", "-q", "--filter", label).split()
        if len(networks) != 1:
            raise ToolFailed(f"{project.name}: expected one network, found {networks}")
        self.network = networks[0]

    def start(self) -> None:
        script = PROBE.format(
            timeout=REQUEST_TIMEOUT_S,
            port=downtime_project.PORT,
            interval=PROBE_INTERVAL_MS * 1000,
            services=" ".join(self.services),
        )
        _docker(
            "run", "-d", "--name", self.name, "--network", self.network, "--init",
            "--label", "spotbench.downtime=probe", IMAGE, "sh", "-c", script,
        )  # fmt: skip

    def lines(self) -> list[str]:
        return _docker("logs", self.name).splitlines()

    def answered(self) -> set[str]:
        """The services that answered at least once so far."""
        return {s for s, seen in parse(self.lines()).items() if any(ok for _, ok in seen)}

    def remove(self) -> None:
        """Best effort: a hung engine must not hide the error that brought us here."""
        try:
            _docker("rm", "-f", self.name, check=False)
        except subprocess.TimeoutExpired:
            print(f"left behind: container {self.name} (docker rm timed out)", file=sys.stderr)


def probed(
    project: SyntheticProject, services: list[str], change: Callable[[], object]
) -> Measured:
    """Run `change` under the probe, once every service has answered it."""
    probe = Probe(project, services)
    try:
        probe.start()
        deadline = time.monotonic() + WARMUP_S
        while set(services) - probe.answered():
            if time.monotonic() > deadline:
                raise ToolFailed(f"{project.name}: the probe got no answer before the change")
            time.sleep(0.2)
        since, started = _uptime(), time.perf_counter()
        change()
        wall = time.perf_counter() - started
        time.sleep(TAIL_S)
        until = _uptime()
        seen = parse(probe.lines())
    finally:
        probe.remove()
    stats = tuple((s, summarize(seen.get(s, []), since, until)) for s in services)
    return Measured(honoured=True, wall_s=wall, services=stats)


class Column:
    """One column at one size: its own project, its tool, what it measured, its error.
    A command that fails or hangs ends the column: what was measured stays, with the
    first line of the error."""

    def __init__(self, root: Path, size: int, which: str, say: Callable[[str], None]) -> None:
        self.which, self.size, self.say = which, size, say
        self.start_first = which == "ours start-first"
        label = which.replace(" ", "").replace("-", "").replace("ours", "")
        self.project = downtime_project.create(root, size, label, self.start_first)
        self.tool: Ours | Compose = (
            Compose(self.project) if which == "compose" else Ours(self.project)
        )
        self.webs = downtime_project.published(self.project.specs)
        self.found: dict[str, list[Measured]] = {scenario: [] for scenario in SCENARIOS}
        self.error: str | None = None

    def guarded(self, action: Callable[[], object]) -> None:
        if self.error:
            return
        try:
            action()
        except (ToolFailed, subprocess.TimeoutExpired) as exc:
            self.error = (str(exc).splitlines() or [type(exc).__name__])[0][:300]
            self.say(f"  {self.which} failed: {self.error}")

    def up(self) -> None:
        self.say(f"== N={self.size} {self.which}: project {self.project.name}")
        self.guarded(lambda: self.tool.up("prod"))

    def repetition(self, rep: int) -> None:
        """Both changes once, from prod (back to it, unmeasured, after the first time).
        A build that does not recreate start-first is shown so once: nothing to repeat."""
        if rep and not any(m.honoured for runs in self.found.values() for m in runs):
            return
        self.say(f"-- N={self.size} {self.which}: repetition {rep + 1}")
        self.guarded(lambda: self._changes(rep))

    def _changes(self, rep: int) -> None:
        if rep:
            self.tool.switch("prod")  # unmeasured: back to where the env switch starts
        for scenario in SCENARIOS:
            if scenario != SCENARIOS[0]:
                downtime_project.bump(self.project, self.webs[0])
            measured = _change(
                self.project, self.webs, self.tool, self.start_first, scenario, self.say
            )
            self.found[scenario].append(measured)


def measure_size(
    root: Path, size: int, repeat: int, say: Callable[[str], None]
) -> tuple[dict[str, dict[str, list[Measured]]], dict[str, str]]:
    """All columns at one size, each brought up first; then repetition by repetition,
    one column after the other (never two at once), the order reversed every other
    repetition so a busy patch of a shared machine falls on all of them."""
    columns = [Column(root, size, which, say) for which in COLUMNS]
    try:
        for column in columns:
            column.up()
        for rep in range(repeat):
            for column in columns if rep % 2 == 0 else columns[::-1]:
                column.repetition(rep)
    finally:
        for column in columns:
            column.project.remove_everything()
    results = {c.which: c.found for c in columns}
    return results, {c.which: c.error for c in columns if c.error}


def _change(
    project: SyntheticProject,
    webs: list[str],
    tool: Ours | Compose,
    start_first: bool,
    scenario: str,
    say: Callable[[str], None],
) -> Measured:
    """One change to dev under the probe; for the start-first column, only when its plan
    says `(start-first)` (else applied unmeasured, and reported as not honoured)."""
    ours = Ours(project)
    plan: tuple[str, ...] = ()
    if start_first:
        text = ours.run("--plan", app_env="dev", expect=(0, 2))
        plan = tuple(line for line in text.splitlines() if "start-first" in line)
        if START_FIRST_MARK not in text:
            tool.switch("dev")  # unmeasured: the next change starts from dev
            say(f"  {scenario:<30} {NOT_HONOURED}: {plan[:1]}")
            return Measured(honoured=False, plan=plan)
    measured = probed(project, webs, lambda: tool.switch("dev"))
    ours.plan("dev")  # raises unless the change left the stack converged
    worst = max(stats.longest_gap_ms for _, stats in measured.services)
    failed = sum(stats.failed for _, stats in measured.services)
    say(f"  {scenario:<30} {measured.wall_s:6.1f} s, {failed} failed, gap <= {worst:.0f} ms")
    return Measured(True, measured.wall_s, measured.services, plan)


def main(sizes: list[int], repeat: int, say: Callable[[str], None]) -> dict[str, Any]:
    """Every size and column; print each size's table; the JSON section."""
    document: dict[str, Any] = {
        "probe_interval_ms": PROBE_INTERVAL_MS,
        "request_timeout_s": REQUEST_TIMEOUT_S,
        "repeat": repeat,
        "failed": False,  # a command failed or hung: some cells have no numbers
        "sizes": {},
    }
    with tempfile.TemporaryDirectory(prefix="spotbench-downtime-") as root:
        for size in sizes:
            started = time.perf_counter()
            results, errors = measure_size(Path(root), size, repeat, say)
            webs = downtime_project.published(layout(size))
            say(table(size, results, webs))
            for which, error in errors.items():
                say(f"  {which}: failed, its missing cells have no numbers: {error}")
            document["failed"] = document["failed"] or bool(errors)
            document["sizes"][str(size)] = {
                "published": webs,
                "seconds": round(time.perf_counter() - started, 1),
                "errors": errors,
                "columns": {
                    which: {scenario: [m.as_json() for m in runs] for scenario, runs in by.items()}
                    for which, by in results.items()
                },
            }
    return document
