"""An upload's bytes straight into the bucket, hashed as they pass: a multipart upload
under a temporary key, fed from a small queue, so memory stays bounded by the part size
and the parts in flight, and nothing of the upload touches local disk."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import blake3
import obstore
from obstore.store import S3Store

from mcore.cid import RAW, cid_from_digest
from mcore.storage.base import BlobWriter, StagedBlob
from mcore.storage.s3._errors import translate

QUEUE_CHUNKS = 4  # chunks waiting for the uploader; a slow bucket slows the client down


class _Aborted(Exception):
    """Raised inside the body iterator so obstore aborts its multipart upload."""


class S3BlobWriter(BlobWriter):
    def __init__(self, store: S3Store, key: str, *, part_size: int, concurrency: int) -> None:
        self.key = key
        self.size = 0
        self._hasher = blake3.blake3()
        self._queue: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue(QUEUE_CHUNKS)
        self._closed = False
        self._task = asyncio.get_running_loop().create_task(
            self._upload(store, part_size, concurrency)
        )
        self._store = store

    async def _body(self) -> AsyncIterator[bytes]:
        while True:
            item = await self._queue.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise _Aborted from item
            yield item

    async def _upload(self, store: S3Store, part_size: int, concurrency: int) -> None:
        await obstore.put_async(
            store,
            self.key,
            self._body(),
            use_multipart=True,
            chunk_size=part_size,
            max_concurrency=concurrency,
        )

    async def _put(self, item: bytes | BaseException | None) -> None:
        # the uploader may have failed: never wait on a queue nobody drains
        put = asyncio.ensure_future(self._queue.put(item))
        done, _ = await asyncio.wait({put, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if put not in done:
            put.cancel()
            await self._raise_failure()

    async def _raise_failure(self) -> None:
        try:
            await self._task
        except obstore.exceptions.BaseError as exc:
            raise translate(exc) from exc
        raise RuntimeError("the S3 upload ended before its body did")

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closed:
            raise RuntimeError("write after finish or abort")
        chunk = bytes(data)
        self._hasher.update(chunk)
        self.size += len(chunk)
        await self._put(chunk)

    async def finish(self) -> StagedBlob:
        if self._closed:
            raise RuntimeError("finish after finish or abort")
        self._closed = True
        try:
            await self._put(None)
            await self._task
        except obstore.exceptions.BaseError as exc:
            await self._drop()
            raise translate(exc) from exc
        except BaseException:
            await self._drop()
            raise
        cid = cid_from_digest(self._hasher.digest(), RAW)
        return StagedBlob(cid=cid, size=self.size, temp_path=Path(self.key))

    async def abort(self) -> None:
        if not self._task.done():
            self._closed = True
            with contextlib.suppress(asyncio.QueueFull):
                # wake the uploader even when the queue is full: drop what waits
                while not self._queue.empty():
                    self._queue.get_nowait()
                self._queue.put_nowait(_Aborted())
            with contextlib.suppress(BaseException):
                await self._task
        self._closed = True
        await self._drop()

    async def _drop(self) -> None:
        # a finished upload that is then aborted (a failed check) leaves an object
        with contextlib.suppress(Exception):
            await obstore.delete_async(self._store, self.key)
