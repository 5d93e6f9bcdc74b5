"""The blob store interface.

Writing is two steps so the database can serialize the second: ``writer()`` streams bytes
into a temp file while hashing them and gives a ``StagedBlob``; ``place()`` moves it under
its CID (or, when the bytes are already stored, drops the temp file and touches the
stored blob). Nothing partial ever appears under a CID.

A temp file is held by the process writing it until it is placed or discarded (a lock the
kernel drops when the process dies): ``iter_temp`` tells which are held, and
``remove_temp`` removes one only when no live process holds it, so the temp files of an
upload cut off by a crash go at the next start-up or ``gc``, whatever their age, and a
live upload's never do.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from threading import Event
from typing import Protocol


class Hold(Protocol):
    """What keeps a temp file marked as owned by a live process, until released."""

    def release(self) -> None: ...


@dataclass
class StagedBlob:
    """Bytes hashed and durable in the temp area, not yet placed under their CID."""

    cid: str
    size: int
    temp_path: Path
    # True when temp_path is a file adopted in place (``ingest --move``): discarding a
    # staged blob then leaves it alone, placing it still moves it.
    adopted: bool = False
    # the temp file's owner marker, held until the file is placed or discarded
    hold: Hold | None = field(default=None, repr=False, compare=False)

    def release(self) -> None:
        """Let go of the temp file's marker (``place`` and ``discard`` do, once it is gone)."""
        if self.hold is not None:
            self.hold.release()
            self.hold = None


@dataclass(frozen=True)
class TempFile:
    """A file in the temp area: ``held`` is True while a live process holds it, False when
    the process that held it is gone (an orphan of a crash), None when it carries no
    marker (judge it by its age)."""

    path: Path
    size: int
    mtime: float
    held: bool | None


@dataclass(frozen=True)
class BlobInfo:
    cid: str
    size: int
    mtime: float


class BlobWriter(abc.ABC):
    """Streams one blob into the temp area, hashing as it goes."""

    size: int

    @abc.abstractmethod
    async def write(self, data: bytes | bytearray | memoryview) -> None:
        """Append bytes; may return before they reach the disk (the order is kept)."""

    @abc.abstractmethod
    async def finish(self) -> StagedBlob:
        """Flush, fsync and return the staged blob with its CID."""

    @abc.abstractmethod
    async def abort(self) -> None:
        """Stop and remove the temp file. Safe to call more than once, and after finish."""


class BlobStore(abc.ABC):
    """Immutable bytes by CID."""

    @abc.abstractmethod
    def writer(self) -> BlobWriter:
        """A writer for one new blob."""

    @abc.abstractmethod
    def copy_in_sync(self, src: Path, stop: Event | None = None) -> StagedBlob:
        """Stage a copy of a local file (blocking: run it in a thread). Setting ``stop``
        ends the copy at its next chunk with ``InterruptedError``, leaving nothing."""

    def adopt_sync(self, src: Path) -> StagedBlob | None:
        """Stage a local file in place, to be moved under its CID; None when the store
        cannot (another disk, a remote store), and the caller copies instead."""
        return None

    def stage_hashed_sync(self, path: Path, cid: str, size: int, hold: Hold) -> StagedBlob:
        """Stage a local file of the temp area whose CID is already known (a resumable
        upload's, hashed as it arrived), blocking. This default copies it in (hashing it
        again, and refusing it unless it still has that CID) and leaves ``path`` and
        ``hold`` to the caller; a local store moves the file itself."""
        staged = self.copy_in_sync(path)
        if staged.cid != cid or staged.size != size:
            staged.release()
            raise OSError(f"{path.name} changed on disk: it hashes to {staged.cid}, not {cid}")
        return staged

    @abc.abstractmethod
    async def place(self, staged: StagedBlob) -> bool:
        """Move a staged blob under its CID; True when it was new, False when deduplicated.

        Call it inside the transaction that writes the reference (see
        ``mcore.db.serialize_on``) so garbage collection cannot interleave, and
        ``discard`` the staged blob after that transaction, whatever its outcome: a
        deduplicated blob's temp file is left for it.
        """

    @abc.abstractmethod
    async def discard(self, staged: StagedBlob) -> None:
        """Remove a staged blob's temp file."""

    @abc.abstractmethod
    async def stat(self, cid: str) -> BlobInfo | None:
        """Size and time of a stored blob, or None."""

    async def exists(self, cid: str) -> bool:
        return await self.stat(cid) is not None

    @abc.abstractmethod
    def read(self, cid: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """The bytes ``[start, end)`` of a blob, in chunks."""

    @abc.abstractmethod
    async def delete(self, cid: str) -> None:
        """Remove a blob (garbage collection and purge only)."""

    @abc.abstractmethod
    def iter(self) -> AsyncIterator[BlobInfo]:
        """Every stored blob."""

    @abc.abstractmethod
    def iter_temp(self) -> AsyncIterator[TempFile]:
        """Every file in the temp area, and whether a live process holds it."""

    @abc.abstractmethod
    async def remove_temp(self, temp: TempFile) -> bool:
        """Remove a temp file unless a live process holds it (checked again as it is
        removed); True when it was removed."""

    # Blobs at least this large may be downloaded from the store itself (a signed URL),
    # after the server's access check; None: every download streams through the server.
    presign_from: int | None = None

    async def signed_url(self, cid: str) -> str:
        """A short-lived URL that reads the blob straight from the store (only stores
        that set ``presign_from``)."""
        raise NotImplementedError

    def local_path(self, cid: str) -> Path | None:
        """The blob's file when the store is on local disk (lets the server send it directly)."""
        return None
