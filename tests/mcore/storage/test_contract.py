"""What every blob store promises, run against each backend: local disk and an S3 bucket
(moto's server on loopback). Backend-specific details are in test_local.py and test_s3.py."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from threading import Event

import pytest

from mcore.cid import file_cid
from mcore.settings import Settings
from mcore.storage import BlobStore, open_store

MiB = 1024 * 1024


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the database is not what varies here


@pytest.fixture(params=["local", "s3"])
def blob_store(request: pytest.FixtureRequest, settings: Settings) -> BlobStore:
    chosen = settings if request.param == "local" else request.getfixturevalue("s3_settings")
    return open_store(chosen)


async def put(store: BlobStore, data: bytes, chunk: int = 256 * 1024) -> str:
    writer = store.writer()
    for i in range(0, len(data), chunk):
        await writer.write(data[i : i + chunk])
    staged = await writer.finish()
    try:
        await store.place(staged)
    finally:
        await store.discard(staged)
    return staged.cid


async def collect(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([c async for c in chunks])


async def temps(store: BlobStore) -> list[object]:
    return [t async for t in store.iter_temp()]


@pytest.mark.parametrize("size", [0, 100, 6 * MiB + 17])
async def test_bytes_go_in_under_their_cid_and_come_out_whole_or_in_ranges(
    blob_store: BlobStore, size: int
) -> None:
    data = os.urandom(size)
    cid = await put(blob_store, data)
    assert cid == file_cid(data)
    assert await collect(blob_store.read(cid)) == data
    if size:
        assert await collect(blob_store.read(cid, 1, min(size, 50))) == data[1:50]
        assert await collect(blob_store.read(cid, size - 1)) == data[-1:]
    info = await blob_store.stat(cid)
    assert info is not None
    assert info.size == size
    assert [b.cid async for b in blob_store.iter()] == [cid]
    assert await temps(blob_store) == []


async def test_identical_bytes_are_stored_once(blob_store: BlobStore) -> None:
    cid = await put(blob_store, b"same bytes")
    writer = blob_store.writer()
    await writer.write(b"same bytes")
    staged = await writer.finish()
    assert await blob_store.place(staged) is False
    await blob_store.discard(staged)
    assert [b.cid async for b in blob_store.iter()] == [cid]
    assert await temps(blob_store) == []


async def test_an_aborted_upload_leaves_nothing(blob_store: BlobStore) -> None:
    kept = await put(blob_store, b"kept")
    writer = blob_store.writer()
    for _ in range(7):
        await writer.write(b"k" * MiB)
    await writer.abort()
    await writer.abort()  # idempotent
    assert [b.cid async for b in blob_store.iter()] == [kept]
    assert await temps(blob_store) == []


async def test_staged_but_not_placed_is_not_a_blob(blob_store: BlobStore) -> None:
    writer = blob_store.writer()
    await writer.write(b"staged only")
    staged = await writer.finish()
    assert await blob_store.stat(staged.cid) is None
    assert [b async for b in blob_store.iter()] == []
    await blob_store.discard(staged)
    assert await temps(blob_store) == []


async def test_delete_and_stat(blob_store: BlobStore) -> None:
    cid = await put(blob_store, b"to delete")
    await blob_store.delete(cid)
    assert await blob_store.stat(cid) is None
    await blob_store.delete(cid)  # deleting twice is harmless
    assert await blob_store.stat(file_cid(b"never stored")) is None


async def test_write_after_finish_is_an_error(blob_store: BlobStore) -> None:
    writer = blob_store.writer()
    await writer.write(b"x")
    staged = await writer.finish()
    with pytest.raises(RuntimeError):
        await writer.write(b"y")
    await blob_store.discard(staged)


async def test_copy_in_and_a_stopped_copy(blob_store: BlobStore, tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(3 * MiB))
    staged = await asyncio.to_thread(blob_store.copy_in_sync, src)
    assert staged.cid == file_cid(src.read_bytes())
    assert await blob_store.place(staged) is True
    await blob_store.discard(staged)
    stop = Event()
    stop.set()
    with pytest.raises(InterruptedError):
        await asyncio.to_thread(blob_store.copy_in_sync, src, stop)
    assert await temps(blob_store) == []
    assert [b.cid async for b in blob_store.iter()] == [staged.cid]
