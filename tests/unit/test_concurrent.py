"""state/process/concurrent.py: reads run at once, results and errors come back in call order."""

from __future__ import annotations

import threading
import time

import pytest

from state.process.concurrent import reads_concurrently, together


def test_results_come_back_in_call_order() -> None:
    def slow() -> str:
        time.sleep(0.05)
        return "slow"

    assert together(slow, lambda: "fast") == ["slow", "fast"]


def test_the_first_failure_by_order_is_raised_not_the_first_to_arrive() -> None:
    finished: list[str] = []

    def late_failure() -> None:
        time.sleep(0.05)
        finished.append("late")
        raise ValueError("first in the pipeline")

    def early_failure() -> None:
        finished.append("early")
        raise KeyError("second in the pipeline")

    with pytest.raises(ValueError, match="first in the pipeline"):
        together(late_failure, early_failure)
    assert finished == ["early", "late"]  # both ran; none left behind


def test_concurrent_reads_overlap_and_sequential_ones_do_not() -> None:
    barrier = threading.Barrier(2, timeout=2)
    together(barrier.wait, barrier.wait)  # would time out (BrokenBarrierError) one by one
    order: list[str] = []
    together(lambda: order.append("a"), lambda: order.append("b"), concurrent=False)
    assert order == ["a", "b"]


def test_only_an_engine_that_says_so_is_read_concurrently() -> None:
    class Says:
        concurrent_reads = True

    assert reads_concurrently(Says())
    assert not reads_concurrently(object())
