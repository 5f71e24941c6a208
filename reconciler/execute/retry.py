"""The retry policy for engine calls: transient errors only, bounded, each retry logged.

Shared by the reads (reconciler/reads/pipeline.py) and the writes (the executor and the
teardown flow); the one module of reconciler/ that imports tenacity, and only once a call
has failed: a call that succeeds at once (nearly all of them) never imports it (~0.04 s,
before the first `docker container stop` of a `reconcile stop`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from state.errors import TransientError

if TYPE_CHECKING:
    from tenacity import RetryCallState, Retrying

log = logging.getLogger(__name__)
T = TypeVar("T")
Policy = Callable[[], "Retrying"]


def default_retrying(attempts: int = 4, max_wait: float = 4.0) -> Retrying:
    """Transient engine errors only: bounded, exponential, each retry logged (INFO: `-v`)."""
    from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

    def log_retry(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0.0
        log.info(
            "transient engine error (attempt %d of %d), retrying in %.1f s: %s",
            state.attempt_number,
            attempts,
            delay,
            error,
        )

    return Retrying(
        retry=retry_if_exception_type(TransientError),
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=0.5, max=max_wait),
        before_sleep=log_retry,
        reraise=True,
    )


def retried(call: Callable[[], T], retrying: Policy = default_retrying) -> T:
    """`call()`, with transient engine errors retried by the policy. The first attempt
    runs before the policy is built; its failure is the policy's first attempt (the
    same count, waits and log lines as when the policy ran it)."""
    try:
        return call()
    except TransientError as error:
        first: TransientError | None = error
    for attempt in retrying():
        with attempt:
            if first is not None:
                failed, first = first, None
                raise failed
            return call()
    raise AssertionError("unreachable: tenacity re-raises the last error")
