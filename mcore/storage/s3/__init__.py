"""An S3-compatible blob store (obstore).

An upload streams into a multipart upload under ``tmp/<random>`` while it is hashed;
``place`` then copies it server-side to ``blobs/<aa>/<bb>/<cid>`` (sharded on the digest,
as on disk) and ``discard`` deletes the temporary object. An S3 object appears only whole,
so nothing partial or unverified is ever under the blob key space, and only ``place``,
which callers run inside the transaction that writes the reference, writes there. A
failed or abandoned upload aborts its multipart upload; a process killed mid-upload
leaves an incomplete multipart upload that the bucket's lifecycle rule removes
(``AbortIncompleteMultipartUpload``; see docs), and a completed temporary object that
``gc`` removes once it is older than the grace period.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from threading import Event
from typing import Any

import blake3
import obstore
from obstore.exceptions import NotFoundError
from obstore.store import S3Store

from mcore.cid import RAW, cid_from_digest, digest_of, is_canonical
from mcore.storage.base import BlobInfo, BlobStore, StagedBlob, TempFile
from mcore.storage.s3._errors import first_line, guarded, guarded_iter, translate
from mcore.storage.s3._writer import S3BlobWriter

__all__ = ["S3BlobStore"]

log = logging.getLogger("mcore.storage.s3")

# S3's CopyObject takes objects up to 5 GiB; a larger one is copied by streaming it from
# its temporary key into a multipart upload under its CID (complete or not at all)
COPY_LIMIT = 5 * 1024**3
BLOBS = "blobs/"
TEMP = "tmp/"
COPY_CHUNK = 8 * 1024 * 1024


def _mtime(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


class S3BlobStore(BlobStore):
    """Blobs in a bucket (the obstore ``S3Store`` carries the bucket and prefix)."""

    def __init__(
        self,
        store: S3Store,
        *,
        part_size: int = 8 * 1024 * 1024,
        concurrency: int = 4,
        presign_from: int | None = None,
        presign_ttl: timedelta = timedelta(minutes=5),
        copy_limit: int = COPY_LIMIT,
    ) -> None:
        self.store = store
        self.part_size = part_size
        self.concurrency = concurrency
        self.presign_from = presign_from
        self.presign_ttl = presign_ttl
        self.copy_limit = copy_limit

    @staticmethod
    def key_for(cid: str) -> str:
        hexdigest = digest_of(cid).hex()
        return f"{BLOBS}{hexdigest[:2]}/{hexdigest[2:4]}/{cid}"

    @staticmethod
    def _temp_key() -> str:
        return f"{TEMP}{secrets.token_hex(16)}"

    def writer(self) -> S3BlobWriter:
        return S3BlobWriter(
            self.store, self._temp_key(), part_size=self.part_size, concurrency=self.concurrency
        )

    def copy_in_sync(self, src: Path, stop: Event | None = None) -> StagedBlob:
        """Upload a local file under a temporary key while hashing it (blocking)."""
        key = self._temp_key()
        hasher = blake3.blake3()
        size = 0

        def body() -> Any:
            nonlocal size
            with open(src, "rb") as f:
                while chunk := f.read(COPY_CHUNK):
                    if stop is not None and stop.is_set():
                        raise InterruptedError("the copy was stopped")
                    hasher.update(chunk)
                    size += len(chunk)
                    yield chunk

        try:
            obstore.put(
                self.store,
                key,
                body(),
                use_multipart=True,
                chunk_size=self.part_size,
                max_concurrency=self.concurrency,
            )
        except obstore.exceptions.BaseError as exc:
            self._delete_quietly_sync(key)
            raise translate(exc) from exc
        except BaseException:
            self._delete_quietly_sync(key)
            raise
        return StagedBlob(cid=cid_from_digest(hasher.digest(), RAW), size=size, temp_path=Path(key))

    def _delete_quietly_sync(self, key: str) -> None:
        # nothing there, or the store is down: gc removes the temporary object later
        with contextlib.suppress(Exception):
            obstore.delete(self.store, key)

    @guarded
    async def place(self, staged: StagedBlob) -> bool:
        target = self.key_for(staged.cid)
        if await self._head(target) is not None:
            # no time to refresh on S3 without rewriting the object; gc re-checks
            # references in its deleting transaction, which is what keeps this blob
            return False
        if staged.size <= self.copy_limit:
            await obstore.copy_async(self.store, str(staged.temp_path), target)
            return True
        source = await obstore.get_async(self.store, str(staged.temp_path))
        await obstore.put_async(
            self.store,
            target,
            source.stream(min_chunk_size=self.part_size),
            use_multipart=True,
            chunk_size=self.part_size,
            max_concurrency=self.concurrency,
        )
        return True

    async def discard(self, staged: StagedBlob) -> None:
        key = str(staged.temp_path)
        try:
            await obstore.delete_async(self.store, key)
        except (NotFoundError, FileNotFoundError):
            pass
        except obstore.exceptions.BaseError as exc:
            # the request is answered anyway; gc removes the temporary object later
            log.warning("could not remove the temporary object %s: %s", key, first_line(exc))

    async def _head(self, key: str) -> Any:
        try:
            return await obstore.head_async(self.store, key)
        except (NotFoundError, FileNotFoundError):
            return None

    @guarded
    async def stat(self, cid: str) -> BlobInfo | None:
        meta = await self._head(self.key_for(cid))
        if meta is None:
            return None
        return BlobInfo(cid=cid, size=meta["size"], mtime=_mtime(meta["last_modified"]))

    @guarded_iter
    async def read(self, cid: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        options: dict[str, Any] = {}
        if start or end is not None:
            if end is None:
                options["range"] = {"offset": start}
            else:
                if end <= start:
                    return
                options["range"] = (start, end)
        result = await obstore.get_async(self.store, self.key_for(cid), options=options)  # type: ignore[arg-type]
        async for chunk in result.stream():
            yield bytes(chunk)

    @guarded
    async def delete(self, cid: str) -> None:
        try:
            await obstore.delete_async(self.store, self.key_for(cid))
        except (NotFoundError, FileNotFoundError):
            return

    @guarded_iter
    async def iter(self) -> AsyncIterator[BlobInfo]:
        async for batch in obstore.list(self.store, prefix=BLOBS, chunk_size=1000):
            for meta in batch:
                name = meta["path"].rsplit("/", 1)[-1]
                if is_canonical(name) and meta["path"] == self.key_for(name):
                    yield BlobInfo(cid=name, size=meta["size"], mtime=_mtime(meta["last_modified"]))

    @guarded_iter
    async def iter_temp(self) -> AsyncIterator[TempFile]:
        # no process marks an S3 object as its own: gc judges temporary objects by age
        async for batch in obstore.list(self.store, prefix=TEMP, chunk_size=1000):
            for meta in batch:
                yield TempFile(
                    path=Path(meta["path"]),
                    size=meta["size"],
                    mtime=_mtime(meta["last_modified"]),
                    held=None,
                )

    @guarded
    async def remove_temp(self, temp: TempFile) -> bool:
        try:
            await obstore.delete_async(self.store, str(temp.path))
        except (NotFoundError, FileNotFoundError):
            return False
        return True

    @guarded
    async def signed_url(self, cid: str) -> str:
        """A short-lived GET URL of a blob, for a caller already allowed to read it."""
        return await obstore.sign_async(self.store, "GET", self.key_for(cid), self.presign_ttl)
