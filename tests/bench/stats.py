"""Timing and statistics: wall-clock samples, their median and spread."""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def timed(action: Callable[[], object]) -> float:
    """Seconds `action` took, wall clock."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def children_cpu() -> float:
    """CPU seconds (user + system) of this process's finished children so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_with_cpu(action: Callable[[], object]) -> tuple[float, float]:
    """Wall seconds of `action`, and the CPU seconds of the processes it ran (the client
    side only: the engine's own work is not in it). On a shared machine the CPU time is
    the steadier measure of what a tool costs."""
    cpu = children_cpu()
    wall = timed(action)
    return wall, children_cpu() - cpu


@dataclass
class Samples:
    """The timings of one tool in one scenario."""

    values: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def add(self, seconds: float, cpu: float | None = None) -> None:
        self.values.append(seconds)
        if cpu is not None:
            self.cpu.append(cpu)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu) if self.cpu else float("nan")

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    @property
    def spread(self) -> float:
        """max - min: with a handful of repetitions, the honest measure of noise."""
        return max(self.values) - min(self.values) if self.values else float("nan")

    def as_json(self) -> dict[str, Any]:
        return {
            "median_s": round(self.median, 4),
            "min_s": round(min(self.values), 4) if self.values else None,
            "max_s": round(max(self.values), 4) if self.values else None,
            "samples_s": [round(v, 4) for v in self.values],
            "cpu_median_s": round(self.cpu_median, 4) if self.cpu else None,
            "cpu_samples_s": [round(v, 4) for v in self.cpu],
        }


def ratio(ours: Samples, theirs: Samples) -> float:
    """ours / theirs on medians (how many times Compose's own time ours takes)."""
    return ours.median / theirs.median if theirs.median else float("nan")


def cpu_ratio(ours: Samples, theirs: Samples) -> float:
    """ours / theirs on the medians of client-side CPU time."""
    return ours.cpu_median / theirs.cpu_median if theirs.cpu_median else float("nan")
