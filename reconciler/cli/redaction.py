"""Every byte the CLI writes passes through state/secrets.py's redact (render stage).

`redacted_output()` swaps sys.stdout and sys.stderr for wrappers that mask the known
secret values in each write, so click's output, the one-line error, the -v log and
anything a library prints are covered by one hook, whatever module wrote it.
Output that Docker itself writes straight to the terminal (`logs`) is piped through
`copy_redacted` by the engine adapter.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from state.secrets import redact


class _Redacting:
    """A text stream that masks secrets on write and delegates everything else."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(redact(text) if isinstance(text, str) else text)
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def redacted_output() -> Iterator[None]:
    """Within: sys.stdout and sys.stderr mask every known secret value."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Redacting(saved[0]), _Redacting(saved[1])
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
