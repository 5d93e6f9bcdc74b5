"""`mstack backup` on PostgreSQL (pg_dump) and on an S3 bucket (a manifest; `--blobs`
copies them out, verified)."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from mcore.cid import file_cid
from mcore.db import Database
from mcore.errors import Invalid
from mcore.maintenance import backup
from mcore.settings import Settings
from mcore.storage import LocalBlobStore, open_store
from mstack_client.cli import main
from tests.apphelpers import fast, running_app


@pytest.fixture
def backend() -> str:
    return "postgresql"


async def test_backup_of_postgres_and_s3(s3_settings: Settings, tmp_path: Path) -> None:
    async with running_app(fast(s3_settings), worker=False) as app:
        record = await app.upload(b"kept in the bucket", "k.txt")
    db = Database(s3_settings)
    try:
        plain = await backup(db, open_store(s3_settings), s3_settings, tmp_path / "plain")
        full = await backup(
            db, open_store(s3_settings), s3_settings, tmp_path / "full", with_blobs=True
        )
    finally:
        await db.dispose()
    # a real pg_dump archive: pg_restore reads its table of contents
    listed = subprocess.run(
        ["pg_restore", "--list", str(plain.database)], capture_output=True, text=True, check=True
    ).stdout
    assert "TABLE DATA public blob_refs" in listed
    assert "TABLE DATA public files" in listed
    manifest = json.loads(plain.manifest.read_text())
    assert manifest["blobs"] == [{"cid": record["cid"], "size": 18}]
    assert plain.copied == 0
    assert not (tmp_path / "plain" / "blobs").exists()  # the bucket keeps them
    assert full.copied == 1
    local = LocalBlobStore(tmp_path / "full" / "blobs", tmp_path / "full" / "tmp")
    assert file_cid(local.path_for(record["cid"]).read_bytes()) == record["cid"]


async def test_backup_without_pg_dump_says_what_is_missing(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    db = Database(settings)
    try:
        with pytest.raises(Invalid, match="needs pg_dump"):
            await backup(db, open_store(settings), settings, tmp_path / "bk")
    finally:
        await db.dispose()
    result = await asyncio.to_thread(
        CliRunner().invoke,
        main,
        ["backup", str(tmp_path / "bk2")],
        env={
            "MSTACK_DATA_DIR": str(settings.data_dir),
            "MSTACK_DATABASE_URL": settings.db_url,
            "MSTACK_CONFIG": "",
        },
    )
    assert result.exit_code == 1
    assert "needs pg_dump" in result.output
    assert "Traceback" not in result.output
