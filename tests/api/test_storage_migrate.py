"""``mstack storage migrate``: local disk to an S3 bucket (moto's server) and back, each
blob verified on arrival, resumable, and the instance serving from the bucket after."""

from __future__ import annotations

import asyncio
import os
import stat
from typing import Any

import pytest
from click.testing import CliRunner

from mcore.cid import file_cid
from mcore.settings import Settings
from mcore.storage import LocalBlobStore
from mcore.storage.s3 import S3BlobStore
from mstack_client.cli import main
from tests.apphelpers import fast, running_app
from tests.s3server import ACCESS_KEY, SECRET_KEY, keys


@pytest.fixture
def backend() -> str:
    return "sqlite"


def _migrate(settings: Settings, *args: str) -> Any:
    storage = settings.storage
    env = {
        "MSTACK_DATA_DIR": str(settings.data_dir),
        "MSTACK_DATABASE_URL": settings.db_url,
        "MSTACK_CONFIG": "",
        "MSTACK_STORAGE__S3_ENDPOINT": storage.s3_endpoint or "",
        "MSTACK_STORAGE__S3_BUCKET": storage.s3_bucket or "",
        "MSTACK_STORAGE__S3_PREFIX": storage.s3_prefix,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
    }
    return CliRunner().invoke(main, ["storage", "migrate", *args], env=env)


async def migrate(settings: Settings, *args: str) -> Any:
    """The command in a thread: it runs its own event loop, as from a shell."""
    return await asyncio.to_thread(_migrate, settings, *args)


async def test_migrate_to_s3_and_back(settings: Settings, s3_settings: Settings) -> None:
    files = [b"first file", b"second file" * 1000, os.urandom(6 * 1024 * 1024)]
    async with running_app(fast(settings), worker=False) as app:  # on local disk
        records = [await app.upload(data, f"f{i}.bin") for i, data in enumerate(files)]
    local = LocalBlobStore(settings.blob_dir, settings.tmp_dir)
    # one blob rotted on disk: it must not be carried over under its name
    rotten = local.path_for(records[0]["cid"])
    os.chmod(rotten, stat.S_IWUSR | stat.S_IRUSR)
    rotten.write_bytes(b"first filE")

    dry = await migrate(s3_settings, "--to", "s3", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "would copy 3 blobs" in dry.stdout
    assert keys(s3_settings.storage.s3_endpoint or "", s3_settings.storage.s3_bucket or "") == []

    result = await migrate(s3_settings, "--to", "s3")
    assert result.exit_code == 1, result.output  # the rotten one is reported
    assert "copied 2 blobs" in result.stdout
    assert "1 did not match their CID" in result.stdout
    assert f"MISMATCHED {records[0]['cid']}" in result.stderr
    bucket = keys(s3_settings.storage.s3_endpoint or "", s3_settings.storage.s3_bucket or "")
    assert bucket == sorted("archive/" + S3BlobStore.key_for(r["cid"]) for r in records[1:])

    again = await migrate(s3_settings, "--to", "s3")  # resumable: nothing copied twice
    assert "copied 0 blobs" in again.stdout
    assert "2 already there" in again.stdout

    # switched to the bucket, the same database serves the same bytes
    async with running_app(fast(s3_settings), worker=False) as app:
        for record, data in zip(records[1:], files[1:], strict=True):
            r = await app.http.get(f"/api/v1/files/{record['id']}/content")
            assert r.status_code == 200
            assert file_cid(r.content) == record["cid"]
            assert r.content == data

    # and back: a blob lost on disk comes home from the bucket, verified
    lost = local.path_for(records[2]["cid"])
    lost.unlink()
    back = await migrate(s3_settings, "--to", "local")
    assert back.exit_code == 0, back.output
    assert "copied 1 blobs" in back.stdout
    assert file_cid(lost.read_bytes()) == records[2]["cid"]
    assert not any(settings.tmp_dir.iterdir())


def test_migrate_needs_a_bucket(settings: Settings) -> None:
    env = {"MSTACK_DATA_DIR": str(settings.data_dir), "MSTACK_CONFIG": ""}
    result = CliRunner().invoke(main, ["storage", "migrate", "--to", "s3"], env=env)
    assert result.exit_code != 0
    assert "storage.s3_bucket is not set" in result.output
