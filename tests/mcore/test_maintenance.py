"""Garbage collection, verification and backup, against a real database and blob folder."""

import asyncio
import json
import os
import sqlite3
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from mcore.access import SYSTEM
from mcore.cid import file_cid
from mcore.db import Database
from mcore.files import ops
from mcore.files.ingest import record_uploads
from mcore.files.models import File
from mcore.files.staging import discard_uploads, stage_stream
from mcore.maintenance import backup, collect_garbage, verify_blobs
from mcore.refs import BlobRef
from mcore.settings import Settings
from mcore.storage import LocalBlobStore
from tests.conftest import FAST_PASSWORDS, sign_in_new_account


async def chunks(data: bytes):
    yield data


async def ingest(db: Database, store: LocalBlobStore, settings: Settings, data: bytes) -> File:
    staged = await stage_stream(store, chunks(data), settings, filename="x")
    try:
        async with db.session(write=True) as session:
            (file,) = await record_uploads(session, store, actor=SYSTEM, uploads=[staged])
    finally:
        await discard_uploads(store, [staged])
    return file


def age(store: LocalBlobStore, cid: str, seconds: float) -> None:
    path = store.path_for(cid)
    old = path.stat().st_mtime - seconds
    os.utime(path, (old, old))


async def trash_and_purge(db: Database, file: File) -> None:
    async with db.session(write=True) as session:
        await ops.trash_file(session, actor=SYSTEM, file_id=file.id)
    async with db.session(write=True) as session:
        await ops.purge_trash(session, before=file.created_at + timedelta(days=3650))


async def test_gc_keeps_referenced_and_young_blobs(
    db: Database, store: LocalBlobStore, settings: Settings
) -> None:
    kept = await ingest(db, store, settings, b"referenced")
    age(store, kept.cid, 10 * 86400)
    young = await ingest(db, store, settings, b"young and unreferenced")
    await trash_and_purge(db, young)
    report = await collect_garbage(db, store, settings)
    assert report.removed_blobs == []
    assert report.kept_young == 1
    assert await store.exists(kept.cid)
    assert await store.exists(young.cid)


async def test_gc_removes_unreferenced_after_grace(
    db: Database, store: LocalBlobStore, settings: Settings
) -> None:
    gone = await ingest(db, store, settings, b"to be collected")
    await trash_and_purge(db, gone)
    age(store, gone.cid, settings.gc_grace_period.total_seconds() + 60)
    dry = await collect_garbage(db, store, settings, dry_run=True)
    assert dry.removed_blobs == [gone.cid]
    assert await store.exists(gone.cid)
    report = await collect_garbage(db, store, settings)
    assert report.removed_blobs == [gone.cid]
    assert report.freed_bytes == len(b"to be collected")
    assert not await store.exists(gone.cid)


async def test_gc_purges_expired_trash_then_collects(
    db: Database, store: LocalBlobStore, settings: Settings, frozen_clock
) -> None:
    file = await ingest(db, store, settings, b"trashed long ago")
    async with db.session(write=True) as session:
        await ops.trash_file(session, actor=SYSTEM, file_id=file.id)
    first = await collect_garbage(db, store, settings)
    assert first.purged_files == []  # still restorable
    frozen_clock.offset += settings.trash_retention.total_seconds() + 1
    age(store, file.cid, settings.gc_grace_period.total_seconds() + 60)
    report = await collect_garbage(db, store, settings)
    assert report.purged_files == [file.id]
    assert report.removed_blobs == [file.cid]
    async with db.session() as session:
        assert (await session.exec(select(BlobRef))).all() == []


async def test_gc_dry_run_counts_the_trash_the_run_would_purge(
    db: Database, store: LocalBlobStore, settings: Settings, frozen_clock
) -> None:
    """Trash past its retention is purged by the run, so its blob goes in the same run:
    the dry run counts it too, and changes nothing."""
    data = b"trashed, past retention and grace"
    file = await ingest(db, store, settings, data)
    async with db.session(write=True) as session:
        await ops.trash_file(session, actor=SYSTEM, file_id=file.id)
    frozen_clock.offset += settings.trash_retention.total_seconds() + 1
    age(store, file.cid, settings.gc_grace_period.total_seconds() + 60)
    dry = await collect_garbage(db, store, settings, dry_run=True)
    assert (dry.purged_files, dry.removed_blobs, dry.freed_bytes) == (
        [file.id],
        [file.cid],
        len(data),
    )
    assert await store.exists(file.cid)
    async with db.session() as session:
        assert (await session.exec(select(File.id))).all() == [file.id]  # still in the trash
        assert len((await session.exec(select(BlobRef))).all()) == 1
    report = await collect_garbage(db, store, settings)
    assert (report.purged_files, report.removed_blobs, report.freed_bytes) == (
        dry.purged_files,
        dry.removed_blobs,
        dry.freed_bytes,
    )
    assert not await store.exists(file.cid)


async def test_gc_never_takes_a_blob_an_upload_just_matched(
    db: Database, store: LocalBlobStore, settings: Settings
) -> None:
    data = b"orphaned, then uploaded again"
    old = await ingest(db, store, settings, data)
    await trash_and_purge(db, old)
    age(store, old.cid, settings.gc_grace_period.total_seconds() + 60)
    # an upload of the same bytes matches the old, unreferenced blob
    again = await ingest(db, store, settings, data)
    report = await collect_garbage(db, store, settings)
    assert report.removed_blobs == []
    assert store.path_for(again.cid).read_bytes() == data


async def test_gc_racing_uploads_never_loses_a_referenced_blob(
    db: Database, store: LocalBlobStore, settings: Settings
) -> None:
    settings.gc_grace_period = timedelta(0)
    data = b"raced"
    for _ in range(15):
        await asyncio.gather(
            collect_garbage(db, store, settings), ingest(db, store, settings, data)
        )
        async with db.session() as session:
            referenced = set((await session.exec(select(BlobRef.cid))).all())
        for cid in referenced:
            assert await store.exists(cid), "a referenced blob was collected"
        async with db.session(write=True) as session:
            for file in (await session.exec(select(File))).all():
                await ops.trash_file(session, actor=SYSTEM, file_id=file.id)
            await ops.purge_trash(session, before=file.created_at + timedelta(days=1))


async def test_gc_removes_stale_temp_files_only(
    db: Database, store: LocalBlobStore, settings: Settings
) -> None:
    stale = store.tmp_dir / "abandoned.part"
    stale.write_bytes(b"half an upload")
    old = stale.stat().st_mtime - max(settings.gc_grace_period.total_seconds(), 3600) - 60
    os.utime(stale, (old, old))
    fresh = store.tmp_dir / "in-progress.part"
    fresh.write_bytes(b"still arriving")
    report = await collect_garbage(db, store, settings)
    assert report.removed_temp == ["abandoned.part"]
    assert not stale.exists()
    assert fresh.exists()


async def test_gc_removes_temp_files_no_live_upload_holds_whatever_their_age(
    db: Database, store: LocalBlobStore, settings: Settings
) -> None:
    """An orphan (its writer is gone) goes at once; a live upload's temp file stays however
    old; a dry run counts and removes nothing."""
    orphaned = store.writer()
    await orphaned.write(b"its process died")
    left = await orphaned.finish()
    left.release()  # as the kernel does when the process dies
    live = store.writer()
    await live.write(b"still arriving")
    ancient = time.time() - 10 * settings.gc_grace_period.total_seconds()
    os.utime(live.path, (ancient, ancient))
    dry = await collect_garbage(db, store, settings, dry_run=True)
    assert dry.removed_temp == [left.temp_path.name]
    assert (dry.orphaned_temp, dry.freed_temp_bytes, dry.live_temp) == (1, 16, 1)
    assert left.temp_path.exists()
    assert live.path.exists()
    report = await collect_garbage(db, store, settings)
    assert (report.removed_temp, report.orphaned_temp) == ([left.temp_path.name], 1)
    assert not left.temp_path.exists()
    assert live.path.exists()
    await live.abort()


async def test_verify_finds_flipped_byte_and_missing_blob(
    db: Database, store: LocalBlobStore, settings: Settings
) -> None:
    good = await ingest(db, store, settings, b"good bytes")
    bad = await ingest(db, store, settings, b"bytes that will rot")
    lost = await ingest(db, store, settings, b"bytes that will vanish")
    assert (await verify_blobs(db, store)).ok
    path = store.path_for(bad.cid)
    os.chmod(path, 0o600)
    raw = bytearray(path.read_bytes())
    raw[3] ^= 0x01
    path.write_bytes(bytes(raw))
    os.unlink(store.path_for(lost.cid))
    report = await verify_blobs(db, store)
    assert not report.ok
    assert report.mismatched == [(bad.cid, file_cid(bytes(raw)))]
    assert report.missing == [lost.cid]
    assert report.checked == 2
    assert good.cid not in [m[0] for m in report.mismatched]


@pytest.mark.parametrize("backend", ["sqlite"])  # backup copies the embedded database
async def test_backup_restores_into_a_working_archive(
    db: Database, store: LocalBlobStore, settings: Settings, tmp_path: Path
) -> None:
    files = [await ingest(db, store, settings, b"backup me %d" % i) for i in range(3)]
    dest = tmp_path / "backup"
    report = await backup(db, store, settings, dest, with_blobs=True)
    assert report.blobs == 3
    assert report.copied == 3
    manifest = json.loads((dest / "manifest.json").read_text())
    assert sorted(e["cid"] for e in manifest["blobs"]) == sorted(f.cid for f in files)
    # a second run copies nothing new
    assert (await backup(db, store, settings, dest, with_blobs=True)).copied == 0
    # the backup is a data directory a server can run on
    from api.app import create_app

    restored = Settings(data_dir=dest, **FAST_PASSWORDS)
    app = create_app(restored)
    async with (
        app.lifespan(),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://restored"
        ) as http,
    ):
        # the files were ingested by the system; an admin made now may read them
        await sign_in_new_account(app, http, role="admin", username="restorer")
        for f in files:
            r = await http.get(f"/api/v1/files/{f.id}/content")
            assert r.status_code == 200, r.text
            assert file_cid(r.content) == f.cid


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_backup_while_writes_continue_is_consistent(
    db: Database, store: LocalBlobStore, settings: Settings, tmp_path: Path
) -> None:
    async def writer() -> None:
        for i in range(40):
            await ingest(db, store, settings, b"during backup %d" % i)

    task = asyncio.create_task(writer())
    await asyncio.sleep(0.05)
    await backup(db, store, settings, tmp_path / "b")
    await task
    copy = sqlite3.connect(tmp_path / "b" / "mstack.db")
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    files = copy.execute("SELECT count(*) FROM files").fetchone()[0]
    refs = copy.execute("SELECT count(*) FROM blob_refs").fetchone()[0]
    copy.close()
    assert files == refs  # a row and its reference are always copied together


async def test_gc_prunes_ended_sessions_only(
    db: Database, store: LocalBlobStore, settings: Settings, make_client, frozen_clock
) -> None:
    ended = await make_client(role="user")
    kept = await make_client(role="user")
    assert (await ended.post("/api/v1/auth/logout")).status_code in (200, 204)
    frozen_clock.offset += 1
    report = await collect_garbage(db, store, settings)
    assert report.pruned_sessions == 1
    assert (await kept.get("/api/v1/auth/me")).status_code == 200
    assert (await collect_garbage(db, store, settings)).pruned_sessions == 0
