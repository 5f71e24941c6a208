"""Timing and statistics: wall-clock samples, their median and spread."""

from __future__ import annotations

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


@dataclass
class Samples:
    """The timings of one tool in one scenario."""

    values: list[float] = field(default_factory=list)

    def add(self, seconds: float) -> None:
        self.values.append(seconds)

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
        }


def ratio(ours: Samples, theirs: Samples) -> float:
    """ours / theirs on medians (how many times Compose's own time ours takes)."""
    return ours.median / theirs.median if theirs.median else float("nan")
