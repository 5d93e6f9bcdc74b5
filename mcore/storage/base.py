"""The blob store interface.

Writing is two steps so the database can serialize the second: ``writer()`` streams bytes
into a temp file while hashing them and gives a ``StagedBlob``; ``place()`` moves it under
its CID (or, when the bytes are already stored, drops the temp file and touches the
stored blob). Nothing partial ever appears under a CID.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from threading import Event


@dataclass
class StagedBlob:
    """Bytes hashed and durable in the temp area, not yet placed under their CID."""

    cid: str
    size: int
    temp_path: Path
    # True when temp_path is a file adopted in place (``ingest --move``): discarding a
    # staged blob then leaves it alone, placing it still moves it.
    adopted: bool = False


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
    def iter_temp(self) -> AsyncIterator[tuple[Path, float]]:
        """Every temp file with its modification time."""

    def local_path(self, cid: str) -> Path | None:
        """The blob's file when the store is on local disk (lets the server send it directly)."""
        return None
