"""The S3 blob store against moto's S3 server on loopback (a real process, a free port),
checked from outside with boto3."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from mcore.cid import file_cid
from mcore.errors import Invalid, Unavailable
from mcore.settings import Settings, StorageSettings
from mcore.storage import open_store
from mcore.storage.s3 import S3BlobStore
from mcore.storage.s3._config import read_credentials_file
from tests.conftest import free_port
from tests.s3server import keys, multipart_uploads

MiB = 1024 * 1024


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
def s3store(s3_settings: Settings) -> S3BlobStore:
    store = open_store(s3_settings)
    assert isinstance(store, S3BlobStore)
    return store


def bucket_keys(settings: Settings) -> list[str]:
    assert settings.storage.s3_endpoint
    assert settings.storage.s3_bucket
    return keys(settings.storage.s3_endpoint, settings.storage.s3_bucket)


async def stage(store: S3BlobStore, data: bytes, chunk: int = 1 * MiB) -> object:
    writer = store.writer()
    for i in range(0, len(data), chunk):
        await writer.write(data[i : i + chunk])
    return await writer.finish()


async def test_streamed_upload_is_placed_under_its_cid_once(
    s3store: S3BlobStore, s3_settings: Settings
) -> None:
    data = bytes(range(256)) * (12 * 4096 + 7)  # > two 5 MiB parts: a real multipart upload
    writer = s3store.writer()
    for i in range(0, len(data), MiB):
        await writer.write(data[i : i + MiB])
    staged = await writer.finish()
    assert staged.cid == file_cid(data)
    # staged: only a temporary object, nothing under blobs/ yet
    assert [k for k in bucket_keys(s3_settings) if "/blobs/" in k] == []
    assert await s3store.place(staged) is True
    await s3store.discard(staged)
    (key,) = bucket_keys(s3_settings)
    assert key == "archive/" + S3BlobStore.key_for(staged.cid)
    assert key.startswith("archive/blobs/")
    assert key.count("/") == 4

    w2 = s3store.writer()
    await w2.write(data)
    dup = await w2.finish()
    assert await s3store.place(dup) is False
    await s3store.discard(dup)
    assert bucket_keys(s3_settings) == [key]
    assert [t async for t in s3store.iter_temp()] == []

    info = await s3store.stat(staged.cid)
    assert info is not None
    assert info.size == len(data)
    assert b"".join([c async for c in s3store.read(staged.cid)]) == data
    assert b"".join([c async for c in s3store.read(staged.cid, 10, 5000)]) == data[10:5000]
    assert b"".join([c async for c in s3store.read(staged.cid, len(data) - 3)]) == data[-3:]
    assert [b.cid async for b in s3store.iter()] == [staged.cid]
    await s3store.delete(staged.cid)
    assert await s3store.stat(staged.cid) is None
    assert bucket_keys(s3_settings) == []


async def test_aborted_upload_leaves_no_object_and_no_multipart_upload(
    s3store: S3BlobStore, s3_settings: Settings
) -> None:
    writer = s3store.writer()
    for _ in range(12):  # two parts sent, more waiting
        await writer.write(b"x" * MiB)
    await writer.abort()
    await writer.abort()  # twice is harmless
    assert bucket_keys(s3_settings) == []
    endpoint, bucket = s3_settings.storage.s3_endpoint, s3_settings.storage.s3_bucket
    assert endpoint
    assert bucket
    assert multipart_uploads(endpoint, bucket) == []


async def test_a_finished_upload_failing_its_check_is_removed(
    s3store: S3BlobStore, s3_settings: Settings
) -> None:
    from mcore.files.staging import stage_stream

    async def body() -> object:
        yield b"hello world"

    with pytest.raises(Invalid):
        await stage_stream(
            s3store,
            body(),  # type: ignore[arg-type]
            s3_settings,
            filename="a.txt",
            expected_cid=file_cid(b"something else"),
        )
    assert bucket_keys(s3_settings) == []


async def test_gc_and_verify_work_on_the_bucket(
    s3store: S3BlobStore, s3_settings: Settings, frozen_clock: Any
) -> None:
    from mcore.db import Database
    from mcore.maintenance import TEMP_MIN_AGE, collect_garbage, verify_blobs
    from tests.s3server import s3

    staged = await stage(s3store, b"kept bytes")
    await s3store.place(staged)
    await s3store.discard(staged)
    # corrupt it from outside, as bit rot or a bad copy would
    endpoint, bucket = s3_settings.storage.s3_endpoint, s3_settings.storage.s3_bucket
    assert endpoint
    assert bucket
    s3(endpoint).put_object(
        Bucket=bucket, Key="archive/" + S3BlobStore.key_for(staged.cid), Body=b"rotten"
    )
    # a temporary object left by a process killed between finishing and placing
    leftover = await stage(s3store, b"left behind")
    assert str(leftover.temp_path).startswith("tmp/")  # type: ignore[attr-defined]

    db = Database(s3_settings)
    try:
        report = await verify_blobs(db, s3store)
        assert [cid for cid, _ in report.mismatched] == [staged.cid]
        settings = s3_settings.model_copy(update={"gc_grace_period": timedelta(0)})
        frozen_clock.offset += 2 * TEMP_MIN_AGE  # the leftover is old enough to be an orphan
        dry = await collect_garbage(db, s3store, settings, dry_run=True)
        real = await collect_garbage(db, s3store, settings)
    finally:
        await db.dispose()
    assert dry.removed_blobs == real.removed_blobs == [staged.cid]  # nothing references it
    assert len(dry.removed_temp) == len(real.removed_temp) == 1
    assert bucket_keys(s3_settings) == []


async def test_a_store_that_does_not_answer_is_unavailable(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    storage = StorageSettings(
        backend="s3",
        s3_endpoint=dead,
        s3_bucket="nothing",
        s3_max_retries=1,
        s3_retry_timeout="PT1S",  # type: ignore[arg-type]
    )
    store = open_store(Settings(data_dir=tmp_path, storage=storage))
    with pytest.raises(Unavailable) as caught:
        await store.stat(file_cid(b"x"))
    assert caught.value.retry_after > 0
    writer = store.writer()

    async def send() -> None:
        for _ in range(8):
            await writer.write(b"y" * MiB)
        await writer.finish()

    with pytest.raises(Unavailable):
        await send()
    await writer.abort()


def test_settings_choose_the_backend(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from mcore.settings import load_settings

    monkeypatch.setenv("MSTACK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MSTACK_STORAGE__BACKEND", "s3")
    with pytest.raises(ValueError, match="s3_bucket"):
        load_settings()
    monkeypatch.setenv("MSTACK_STORAGE__S3_BUCKET", "b")
    monkeypatch.setenv("MSTACK_STORAGE__S3_ENDPOINT", "http://127.0.0.1:9")
    settings = load_settings()
    assert isinstance(open_store(settings), S3BlobStore)
    monkeypatch.setenv("MSTACK_STORAGE__BACKEND", "local")
    assert not isinstance(open_store(load_settings()), S3BlobStore)


def test_credentials_file(tmp_path: Path) -> None:
    path = tmp_path / "credentials"
    path.write_text("[default]\naws_access_key_id = AK\naws_secret_access_key = SK\n")
    assert read_credentials_file(path) == {"access_key_id": "AK", "secret_access_key": "SK"}
    path.write_text("[other]\naws_access_key_id = AK\n")
    with pytest.raises(Invalid, match=r"no \[default\]"):
        read_credentials_file(path)
    path.write_text("not an ini file")
    with pytest.raises(Invalid, match="not an AWS credentials file"):
        read_credentials_file(path)
    with pytest.raises(Invalid, match="cannot be read"):
        read_credentials_file(tmp_path / "missing")


async def test_a_blob_over_the_copy_limit_is_copied_by_streaming(
    s3store: S3BlobStore, s3_settings: Settings
) -> None:
    big = S3BlobStore(s3store.store, part_size=5 * MiB, copy_limit=1 * MiB)
    data = os.urandom(7 * MiB)
    writer = big.writer()
    await writer.write(data)
    staged = await writer.finish()
    assert await big.place(staged) is True
    await big.discard(staged)
    assert bucket_keys(s3_settings) == ["archive/" + S3BlobStore.key_for(staged.cid)]
    assert b"".join([c async for c in big.read(staged.cid)]) == data
