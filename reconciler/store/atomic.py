"""Write a file whole or not at all: the one atomic write the reconciler persists with.

Every file the tool writes for a later run to read back goes through `write_kept`,
which takes the file's Kind: a record (the journal, its rollback records, the history:
0600, fsynced), a cache entry (compose-cache, content overrides: 0600, not fsynced),
or a user's file (a saved plan: the mode the umask gives, fsynced). The bytes go to a
temporary file beside the target, then `os.replace` puts it in place, so a reader,
or the run after a kill, sees the old content or the new, never a mix; on an error the
temporary file is removed and the target is left as it was.

Fixed, for every caller: the temporary file's name is unique per writer (pid and a
random token, created O_EXCL, so two threads or processes never share a partial
file), and no symlink is ever written through (the temporary file is created
O_EXCL|O_NOFOLLOW, and a link at the target is replaced by the rename, not
followed). Set by the Kind: the file's mode (exact, whatever the umask; or
None for what a plain `open` would make) and fsync (the file before the rename,
its directory after, for what must survive a power loss). Standard library only:
`atomicwrites` is deprecated, and click's atomic `open_file` neither fsyncs nor sets
a mode, follows a link at the target, and renames its partial file into place when
the write raised.
"""

from __future__ import annotations

import contextlib
import enum
import os
from pathlib import Path


class Kind(enum.Enum):
    """What a file the tool writes is, and so its mode and durability (mode, fsync)."""

    RECORD = (0o600, True)  # journal, rollback records, history: must survive a crash
    CACHE = (0o600, False)  # compose-cache entries, content overrides: losing one is harmless
    USER_FILE = (None, True)  # a saved plan the user named: the mode their umask gives

    @property
    def mode(self) -> int | None:
        mode: int | None = self.value[0]
        return mode

    @property
    def fsync(self) -> bool:
        return bool(self.value[1])


def write_kept(path: Path, data: str | bytes, kind: Kind) -> None:
    """Replace `path` with `data`, with the mode and durability of its kind."""
    write_atomically(path, data, mode=kind.mode, fsync=kind.fsync)


_ATTEMPTS = 100  # name clashes before giving up (each is a 2**-32 chance, or a planted file)


def write_atomically(
    path: Path, data: str | bytes, *, mode: int | None = None, fsync: bool = False
) -> None:
    """Replace `path` with `data` (str as UTF-8): its old content or the new, never a mix.

    `mode`: the new file's permission bits exactly (None: 0666 less the umask).
    `fsync`: flush the file to disk before the rename and the directory after it.
    Raises OSError (the target untouched, no temporary file left) when it cannot."""
    payload = data.encode() if isinstance(data, str) else data
    fd, temporary = _create_beside(path, mode)
    try:
        with open(fd, "wb") as out:
            out.write(payload)
            if fsync:
                out.flush()
                os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    if fsync:
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def temporary_name(path: Path) -> Path:
    """A fresh name beside `path` for one writer's partial file (hidden, `.partial`)."""
    return path.with_name(f".{path.name[:120]}.{os.getpid()}.{os.urandom(4).hex()}.partial")


def _create_beside(path: Path, mode: int | None) -> tuple[int, Path]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    for _ in range(_ATTEMPTS):
        temporary = temporary_name(path)
        try:
            fd = os.open(temporary, flags, 0o666 if mode is None else 0o600)
        except FileExistsError:
            continue  # another writer's, or something planted there: never reuse it
        if mode is not None:
            try:
                os.fchmod(fd, mode)
            except BaseException:
                os.close(fd)
                os.unlink(temporary)
                raise
        return fd, temporary
    raise FileExistsError(f"no free temporary name beside {path}")
