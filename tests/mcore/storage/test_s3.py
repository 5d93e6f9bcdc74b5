"""The S3 store against moto's S3 server on loopback (a real process, a free port)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from obstore.store import S3Store

from mcore.cid import file_cid
from mcore.storage.s3 import S3BlobStore
from tests.conftest import free_port


@pytest.fixture
def moto_url() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        boto3.client(
            "s3",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        ).create_bucket(Bucket="blobs")
        yield url
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture
def s3store(moto_url: str, tmp_path: Path) -> S3BlobStore:
    store = S3Store(
        "blobs",
        prefix="p",
        endpoint=moto_url,
        region="us-east-1",
        access_key_id="test",
        secret_access_key="test",
        client_options={"allow_http": True},
    )
    return S3BlobStore(store, tmp_path / "tmp")


async def test_put_dedupe_read_range_iter_delete(s3store: S3BlobStore) -> None:
    data = bytes(range(256)) * 9000
    w = s3store.writer()
    await w.write(data)
    staged = await w.finish()
    assert staged.cid == file_cid(data)
    assert await s3store.place(staged) is True
    await s3store.discard(staged)
    assert [t async for t in s3store.iter_temp()] == []
    w2 = s3store.writer()
    await w2.write(data)
    again = await w2.finish()
    assert await s3store.place(again) is False
    await s3store.discard(again)
    info = await s3store.stat(staged.cid)
    assert info is not None
    assert info.size == len(data)
    assert b"".join([c async for c in s3store.read(staged.cid)]) == data
    assert b"".join([c async for c in s3store.read(staged.cid, 10, 5000)]) == data[10:5000]
    assert [b.cid async for b in s3store.iter()] == [staged.cid]
    await s3store.delete(staged.cid)
    assert await s3store.stat(staged.cid) is None


async def test_aborted_upload_leaves_nothing(s3store: S3BlobStore) -> None:
    w = s3store.writer()
    await w.write(b"x" * 3_000_000)
    await w.abort()
    assert [t async for t in s3store.iter_temp()] == []
    assert [b async for b in s3store.iter()] == []
