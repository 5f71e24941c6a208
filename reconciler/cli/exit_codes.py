"""The exit codes of `reconcile`, stated once (render stage: what a run ends with).

0 done or nothing to do; 1 every error (bad input, engine failure, did not converge);
2 only for `--plan` with pending changes (like Terraform's -detailed-exitcode); 64 a
usage error.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES_PENDING = 2
EXIT_USAGE = 64


def pending(empty: bool) -> int:
    """The exit code of a `--plan`: 0 when nothing is to do, else 2."""
    return EXIT_OK if empty else EXIT_CHANGES_PENDING
