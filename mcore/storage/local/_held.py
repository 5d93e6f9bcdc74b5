"""Temp files that tell whether a live process still owns them.

Each temp file of an upload (or a copy, or a processor's output) is created locked: its
writer takes an exclusive ``flock`` on the open file and holds it until the file is
placed under its CID or discarded. The kernel drops the lock when the process ends, by
``kill -9`` too, so a temp file whose lock can be taken is an orphan of a crash and can go
at once, whatever its age, while one that is held is never touched, whichever process
asks (several servers, workers and ``mstack ingest`` may share one data directory).

``flock`` locks belong to the open file description, not to the process: a second
``open`` of the same file conflicts even in the writer's own process, closing another
descriptor of the file (the ``O_DIRECT`` one) keeps the lock, and children started with
``exec`` (decoders, ffmpeg) do not inherit it (``O_CLOEXEC``).

Held temp files end in ``HELD_SUFFIX``; files of the temp area without it (left by an
older version, or by something else) are judged by their age, as before.
"""

from __future__ import annotations

import errno
import fcntl
import os
import secrets
import weakref
from pathlib import Path

TEMP_SUFFIX = ".part"
HELD_SUFFIX = ".held" + TEMP_SUFFIX  # a temp file whose writer holds its lock
_BUSY = (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES)


class TempHold:
    """The open descriptor of a temp file, holding its lock until :meth:`release`.

    Released once; if it is dropped without a release (a bug upstream), the descriptor
    is closed when the object is collected, so the file becomes an orphan gc removes.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._close = weakref.finalize(self, os.close, fd)

    @property
    def held(self) -> bool:
        return self._close.alive

    def release(self) -> None:
        """Close the descriptor, which drops the lock (safe to call more than once)."""
        self._close()


def create_held(tmp_dir: Path, flags: int = os.O_WRONLY) -> tuple[Path, TempHold]:
    """A new empty temp file in ``tmp_dir``, open with ``flags`` and locked by this process.

    The lock is taken right after the file is created. A sweep that came between the two
    may have found it unheld and removed it (it then has no link left), or be probing it
    at this instant: either way this process takes a new name. Never blocks.
    """
    while True:
        path = tmp_dir / f"{secrets.token_hex(16)}{HELD_SUFFIX}"
        fd = os.open(path, flags | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)  # a sweep holds it and will remove it (or the next sweep will)
            if exc.errno not in _BUSY:
                raise
            continue
        except BaseException:
            os.close(fd)
            raise
        if os.fstat(fd).st_nlink:
            return path, TempHold(fd)
        os.close(fd)  # removed by a sweep before the lock was taken


def is_held_name(path: Path) -> bool:
    """Whether the file's name says its writer holds a lock on it."""
    return path.name.endswith(HELD_SUFFIX)


def _open_for_lock(path: Path) -> int | None:
    try:
        return os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return None  # placed or discarded meanwhile


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in _BUSY:
            return False
        raise
    return True


def held_now(path: Path) -> bool | None:
    """Whether a live writer holds this temp file (a probe: it removes nothing); None when
    the file is gone (placed or discarded meanwhile)."""
    fd = _open_for_lock(path)
    if fd is None:
        return None
    try:
        return not _try_lock(fd)
    finally:
        os.close(fd)


def remove_if_unheld(path: Path) -> bool:
    """Remove a temp file no live writer holds; False, touching nothing, when one does.

    Its lock is taken first and kept while it is unlinked, so a writer cannot take it in
    between; the name is unlinked only if it still names the file that was locked.
    """
    fd = _open_for_lock(path)
    if fd is None:
        return False
    try:
        if not _try_lock(fd):
            return False
        try:
            named = os.stat(path, follow_symlinks=False)
        except FileNotFoundError:
            return False
        locked = os.fstat(fd)
        if (named.st_dev, named.st_ino) != (locked.st_dev, locked.st_ino):
            return False
        os.unlink(path)
        return True
    finally:
        os.close(fd)
