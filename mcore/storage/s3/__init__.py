"""An S3-compatible blob store (obstore): bytes are staged and hashed on local disk, then
put under their CID key in one request, so an object under a CID is always complete and
verified (an S3 PUT appears only whole)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from threading import Event
from typing import Any

import obstore
from obstore.store import S3Store

from mcore.cid import is_canonical
from mcore.storage.base import BlobInfo, BlobStore, BlobWriter, StagedBlob, TempFile
from mcore.storage.local import LocalBlobStore

__all__ = ["S3BlobStore"]


def _mtime(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


class S3BlobStore(BlobStore):
    """Blobs in a bucket under ``prefix``; the temp area stays on local disk."""

    def __init__(self, store: S3Store, tmp_dir: Path) -> None:
        self.store = store
        # staging only: the local store's temp area (its blob folder is never written)
        self._stage = LocalBlobStore(tmp_dir / ".unused", tmp_dir)

    def writer(self) -> BlobWriter:
        return self._stage.writer()

    def copy_in_sync(self, src: Path, stop: Event | None = None) -> StagedBlob:
        return self._stage.copy_in_sync(src, stop)

    async def place(self, staged: StagedBlob) -> bool:
        if await self.stat(staged.cid) is not None:
            return False
        await obstore.put_async(self.store, staged.cid, staged.temp_path)
        return True

    async def discard(self, staged: StagedBlob) -> None:
        await self._stage.discard(staged)

    async def stat(self, cid: str) -> BlobInfo | None:
        try:
            meta = await obstore.head_async(self.store, cid)
        except FileNotFoundError:
            return None
        return BlobInfo(cid=cid, size=meta["size"], mtime=_mtime(meta["last_modified"]))

    async def read(self, cid: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        options: dict[str, Any] = {}
        if start or end is not None:
            if end is None:
                options["range"] = {"offset": start}
            else:
                if end <= start:
                    return
                options["range"] = (start, end)
        result = await obstore.get_async(self.store, cid, options=options)  # type: ignore[arg-type]
        async for chunk in result.stream():
            yield bytes(chunk)

    async def delete(self, cid: str) -> None:
        await obstore.delete_async(self.store, cid)

    async def iter(self) -> AsyncIterator[BlobInfo]:
        async for batch in obstore.list(self.store):
            for meta in batch:
                if is_canonical(meta["path"]):
                    yield BlobInfo(
                        cid=meta["path"], size=meta["size"], mtime=_mtime(meta["last_modified"])
                    )

    def iter_temp(self) -> AsyncIterator[TempFile]:
        return self._stage.iter_temp()

    async def remove_temp(self, temp: TempFile) -> bool:
        return await self._stage.remove_temp(temp)
