"""Run independent engine reads at once, and report their failures in pipeline order.

The read stages (desire, observe) each wait on subprocesses (`compose config`,
`image ls`, `container ls`); none needs another's answer, so they run in threads and
the wall time is the longest chain instead of the sum. Every result is awaited; the
error raised is the first by position in the call (the pipeline's order), never
the first to arrive, so a failing read says the same one line every time.
Only an engine that says so (`concurrent_reads = True`: the Docker adapter, whose
reads wait on processes) is read in threads; others (the in-memory engine of the
tests, with nothing to wait on) are read one after another, in the same order. When
the caller is interrupted while it waits, the commands still running are ended.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from concurrent.futures import Future


def reads_concurrently(engine: object) -> bool:
    return getattr(engine, "concurrent_reads", False) is True


def together(*reads: Callable[[], Any], concurrent: bool = True) -> list[Any]:
    """Each read's result, in order; the first failure (by order) is raised once all ended."""
    if len(reads) <= 1 or not concurrent:
        return [read() for read in reads]
    from concurrent.futures import ThreadPoolExecutor  # here: a single read needs no pool

    with ThreadPoolExecutor(max_workers=len(reads), thread_name_prefix="read") as pool:
        futures: list[Future[Any]] = [pool.submit(read) for read in reads]
        try:
            for future in futures:
                future.exception()  # wait for all: no read is left running behind an error
        except BaseException:  # Ctrl-C or a stop signal: end their commands, not wait them out
            from state.process.bounded import end_running  # here: the planner loads this module

            end_running()
            raise
    return [future.result() for future in futures]
