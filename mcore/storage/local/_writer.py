"""An upload's bytes into the temp area: received on the event loop while one thread
hashes and writes them, into a temp file this process holds (``_held``) until it is placed
or discarded."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import blake3

from mcore.cid import RAW, cid_from_digest
from mcore.storage.base import BlobWriter, StagedBlob
from mcore.storage.local._direct import DiskWriter
from mcore.storage.local._held import create_held

CHUNK = 1024 * 1024  # bytes handed to the writing thread at a time
MAX_PENDING = 4  # chunks in flight; with the disk buffer, about 9 MiB per upload


class LocalBlobWriter(BlobWriter):
    """Receives on the event loop while one thread hashes and writes (two cores overlap).

    A body of more than one chunk goes to disk through ``DiskWriter`` (direct writes
    from a 4 MiB buffer, no page cache); a smaller one is written plainly.
    """

    def __init__(self, tmp_dir: Path) -> None:
        self.path, self._hold = create_held(tmp_dir)
        self._fd = self._hold.fd
        self._hasher = blake3.blake3()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="blob-writer")
        self._pending: deque[Future[None]] = deque()
        self._buf = bytearray()
        self._disk: DiskWriter | None = None
        self._closed = False
        self.size = 0

    def _sink(self, data: bytearray) -> None:
        self._hasher.update(data)
        if self._disk is not None:
            self._disk.write(data)
            return
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    async def _submit(self, data: bytearray) -> None:
        self._pending.append(self._pool.submit(self._sink, data))
        while len(self._pending) > MAX_PENDING:
            await asyncio.wrap_future(self._pending.popleft())
        # surface a write error (disk full) early, without waiting on chunks still in flight
        while self._pending and self._pending[0].done():
            self._pending.popleft().result()

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closed:
            raise RuntimeError("write after finish or abort")
        self.size += len(data)
        self._buf += data
        if len(self._buf) >= CHUNK:
            if self._disk is None:
                self._disk = DiskWriter(self.path, self._fd)
            buf, self._buf = self._buf, bytearray()
            await self._submit(buf)

    def _sync(self) -> None:
        if self._disk is not None:
            self._disk.flush()
        os.fsync(self._fd)

    async def finish(self) -> StagedBlob:
        if self._closed:
            raise RuntimeError("finish after finish or abort")
        try:
            if self._buf:
                buf, self._buf = self._buf, bytearray()
                await self._submit(buf)
            while self._pending:
                await asyncio.wrap_future(self._pending.popleft())
            await asyncio.wrap_future(self._pool.submit(self._sync))
        except BaseException:
            await self.abort()
            raise
        self._close()
        cid = cid_from_digest(self._hasher.digest(), RAW)
        # the descriptor stays open, holding the file, until it is placed or discarded
        return StagedBlob(cid=cid, size=self.size, temp_path=self.path, hold=self._hold)

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._disk is not None:
                self._disk.close()
            self._pool.shutdown(wait=False)

    async def abort(self) -> None:
        for fut in self._pending:
            fut.cancel()
        pending = [asyncio.wrap_future(f) for f in self._pending if not f.cancelled()]
        self._pending.clear()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        self._close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        self._hold.release()  # after the unlink: no sweep ever sees it unheld
