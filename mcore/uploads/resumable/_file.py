"""An upload's temp file: where it is, its lock, the per-process hash states, and the
receiver that writes one request's bytes into it."""

from __future__ import annotations

import asyncio
import fcntl
import os
import time
from collections import OrderedDict, deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import blake3

from mcore.errors import Conflict, Gone
from mcore.settings import Settings
from mcore.storage.local._direct import DiskWriter

SUFFIX = ".tus"
CHUNK = 1024 * 1024  # bytes handed to the writing thread at a time
MAX_PENDING = 4
LOCK_WAIT = 5.0  # seconds a request waits for another one on the same upload to let go


def upload_dir(settings: Settings) -> Path:
    """Where the bytes of unfinished uploads are (in the temp area, on the blobs' disk)."""
    return settings.tmp_dir / "uploads"


def upload_path(settings: Settings, upload_id: str) -> Path:
    return upload_dir(settings) / f"{upload_id}{SUFFIX}"


class HashStates:
    """The BLAKE3 state of uploads this process received last, by upload and offset."""

    LIMIT = 256

    def __init__(self) -> None:
        self._by_id: OrderedDict[str, tuple[int, Any]] = OrderedDict()
        self.rehashed = 0  # requests that had to hash the bytes already on disk

    def clear(self) -> None:
        """Forget every state (what a restart does)."""
        self._by_id.clear()

    def take(self, upload_id: str, offset: int) -> Any | None:
        found = self._by_id.pop(upload_id, None)
        return found[1] if found is not None and found[0] == offset else None

    def keep(self, upload_id: str, offset: int, hasher: Any) -> None:
        self._by_id[upload_id] = (offset, hasher)
        while len(self._by_id) > self.LIMIT:
            self._by_id.popitem(last=False)

    def drop(self, upload_id: str) -> None:
        self._by_id.pop(upload_id, None)


HASH_STATES = HashStates()


class FdHold:
    """The open, locked descriptor of an upload's temp file (``Hold`` for the blob store:
    the lock goes when it is released, once)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


async def lock_upload(path: Path) -> FdHold:
    """Open and lock an upload's temp file, waiting a little for another request on it."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        raise Gone("this upload's bytes are gone (it expired or was ended)") from None
    hold = FdHold(fd)
    deadline = time.monotonic() + LOCK_WAIT
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                hold.release()
                raise Conflict("another request is writing into this upload; try again") from None
            await asyncio.sleep(0.05)
    if os.fstat(fd).st_nlink == 0:
        hold.release()
        raise Gone("this upload was ended while this request waited")
    return hold


def hash_existing(fd: int, size: int) -> Any:
    hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
    pos = 0
    while pos < size:
        data = os.pread(fd, min(8 * CHUNK, size - pos), pos)
        if not data:
            raise OSError(f"the upload's temp file is shorter than its offset ({pos} < {size})")
        hasher.update(data)
        pos += len(data)
    return hasher


class Receiver:
    """One PATCH's bytes into the temp file from ``start``: hashed (and checksummed) and
    written on one thread while the event loop receives the next chunk."""

    def __init__(self, hold: FdHold, path: Path, start: int, hasher: Any, sum_: Any) -> None:
        self.fd = hold.fd
        self.hasher = hasher
        self.sum = sum_
        self.disk = DiskWriter(path, self.fd)
        self.disk.offset = start
        self.received = start
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tus-writer")
        self._pending: deque[Future[None]] = deque()
        self._buf = bytearray()

    def _sink(self, data: bytearray) -> None:
        self.hasher.update(data)
        if self.sum is not None:
            self.sum.update(data)
        self.disk.write(data)

    async def _submit(self, data: bytearray) -> None:
        self._pending.append(self._pool.submit(self._sink, data))
        while len(self._pending) > MAX_PENDING:
            await asyncio.wrap_future(self._pending.popleft())
        while self._pending and self._pending[0].done():
            self._pending.popleft().result()

    async def write(self, data: bytes) -> None:
        self.received += len(data)
        self._buf += data
        if len(self._buf) >= CHUNK:
            buf, self._buf = self._buf, bytearray()
            await self._submit(buf)

    async def _drain(self) -> None:
        while self._pending:
            await asyncio.wrap_future(self._pending.popleft())

    async def checkpoint(self) -> int:
        """Make what reached the disk so far durable, and return the offset up to which it
        is (the bytes still in the writer's buffer count from the next checkpoint). The
        sync runs on a thread of its own, so the writer goes on meanwhile."""
        written = await asyncio.wrap_future(self._pool.submit(lambda: self.disk.offset))
        await asyncio.to_thread(os.fdatasync, self.fd)
        return written

    async def flush(self) -> int:
        """Write and make durable every byte received; the offset after them."""
        if self._buf:
            buf, self._buf = self._buf, bytearray()
            await self._submit(buf)
        await self._drain()
        await asyncio.wrap_future(self._pool.submit(self.disk.flush))
        return await self.checkpoint()

    async def stop(self) -> None:
        """Wait for the writing thread and let go of it (the bytes stay as written)."""
        for fut in self._pending:
            fut.cancel()
        await asyncio.gather(
            *(asyncio.wrap_future(f) for f in self._pending if not f.cancelled()),
            return_exceptions=True,
        )
        self._pending.clear()
        self._pool.shutdown(wait=True)
        self.disk.close()
