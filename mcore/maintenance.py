"""Keeping the archive honest: garbage collection, verification and backups."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import blake3
from sqlalchemy.engine import make_url
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.auth.ops import prune_sessions
from mcore.cid import RAW, cid_from_digest, digest_of
from mcore.clock import clock, utcnow
from mcore.db import Database, serialize_on
from mcore.errors import Invalid
from mcore.files.derivatives import prune_orphans
from mcore.files.ops import purge_trash
from mcore.refs import BlobRef, ref_count
from mcore.settings import Settings
from mcore.storage import BlobStore, LocalBlobStore
from mcore.storage.migrate import copy_blob
from mcore.uploads.resumable import expire_uploads

# A temp file with no owner marker (left by an older version, or put there by hand) may
# belong to an upload still waiting for its transaction; never call one stale sooner than
# this, whatever the grace period. Marked temp files need no age: their lock tells.
TEMP_MIN_AGE = 3600.0


@dataclass
class GcReport:
    purged_files: list[str] = field(default_factory=list)
    removed_blobs: list[str] = field(default_factory=list)
    freed_bytes: int = 0
    removed_temp: list[str] = field(default_factory=list)
    orphaned_temp: int = 0  # of removed_temp: left by a process that died mid-upload
    freed_temp_bytes: int = 0
    live_temp: int = 0  # temp files of uploads in progress (kept, whatever their age)
    kept_young: int = 0
    pruned_derivatives: int = 0
    pruned_sessions: int = 0
    expired_uploads: list[str] = field(default_factory=list)  # resumable uploads (tus)
    freed_upload_bytes: int = 0


@dataclass
class TempSweep:
    """What :func:`remove_orphaned_temp` found: orphans removed (or, dry, that would be)
    and the live uploads' temp files it left alone."""

    removed: list[str] = field(default_factory=list)
    freed_bytes: int = 0
    live: int = 0


async def remove_orphaned_temp(store: BlobStore, *, dry_run: bool = False) -> TempSweep:
    """Remove the temp files no live process holds: uploads, copies and processors' outputs
    cut off by a crash (``kill -9``, power loss), whatever their age. A temp file a live
    process holds, in this process or another sharing the data directory, is never
    touched. Run when a server starts and by ``gc``."""
    sweep = TempSweep()
    async for temp in store.iter_temp():
        if temp.held:
            sweep.live += 1
        elif temp.held is False and (dry_run or await store.remove_temp(temp)):
            sweep.removed.append(temp.path.name)
            sweep.freed_bytes += temp.size
    return sweep


class _RollBack(Exception):
    """Ends a dry run's transaction: it made the purges only to see what they leave."""


async def _referenced(session: AsyncSession) -> set[str]:
    return set((await session.exec(select(col(BlobRef.cid)).distinct())).all())


async def collect_garbage(
    db: Database, store: BlobStore, settings: Settings, *, dry_run: bool = False
) -> GcReport:
    """Purge expired trash, then remove unreferenced blobs, expired resumable uploads
    (with their bytes) and stale temp files.

    A blob goes only when no reference names it and its time is older than the grace
    period, both checked again inside the transaction that deletes it, serialized with
    uploads, so a blob an upload has just matched is never taken. A temp file goes when no
    live process holds it (``remove_orphaned_temp``), whatever its age; one without an
    owner marker when it is older than the grace period (and ``TEMP_MIN_AGE``).

    ``dry_run`` makes the same purges in a transaction it rolls back, and deletes nothing:
    its report counts what the real run would remove, trash past retention included.
    """
    report = GcReport()
    now = clock.time()
    cutoff = now - settings.gc_grace_period.total_seconds()
    try:
        async with db.session(write=True) as session:
            report.purged_files = await purge_trash(
                session, before=utcnow() - settings.trash_retention
            )
            pruned = await prune_orphans(session, store, keep_blobs=dry_run)
            report.pruned_sessions = await prune_sessions(session, before=utcnow())
            if dry_run:
                # what the real run's purges leave referenced; then none of it happened
                referenced = await _referenced(session)
                raise _RollBack
    except _RollBack:
        pass
    report.pruned_derivatives = pruned.derivatives
    for cid, size in sorted(pruned.blobs.items()):  # their blobs go (or would) with them
        report.removed_blobs.append(cid)
        report.freed_bytes += size
    if not dry_run:
        async with db.session() as session:
            referenced = await _referenced(session)
    async for blob in store.iter():
        if blob.cid in referenced or blob.cid in pruned.blobs:
            continue
        if blob.mtime >= cutoff:
            report.kept_young += 1
            continue
        if dry_run:
            report.removed_blobs.append(blob.cid)
            report.freed_bytes += blob.size
            continue
        async with db.session(write=True) as session:
            await serialize_on(session, f"blob:{blob.cid}")
            if await ref_count(session, blob.cid):
                continue
            current = await store.stat(blob.cid)
            if current is None or current.mtime >= cutoff:
                continue
            await store.delete(blob.cid)
        report.removed_blobs.append(blob.cid)
        report.freed_bytes += blob.size
    expired = await expire_uploads(db, settings, dry_run=dry_run)
    report.expired_uploads = expired.uploads
    report.freed_upload_bytes = expired.freed_bytes
    temp_cutoff = now - max(settings.gc_grace_period.total_seconds(), TEMP_MIN_AGE)
    async for temp in store.iter_temp():
        if temp.held:
            report.live_temp += 1
            continue
        if temp.held is None and temp.mtime >= temp_cutoff:
            continue
        if dry_run or await store.remove_temp(temp):
            report.removed_temp.append(temp.path.name)
            report.freed_temp_bytes += temp.size
            report.orphaned_temp += temp.held is False
    return report


@dataclass
class VerifyReport:
    checked: int = 0
    bytes: int = 0
    mismatched: list[tuple[str, str]] = field(default_factory=list)  # (cid, what the bytes hash to)
    missing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatched and not self.missing


def _hash_path(path: Path) -> str:
    hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
    with open(path, "rb") as f:
        while chunk := f.read(4 * 1024 * 1024):
            hasher.update(chunk)
    return cid_from_digest(hasher.digest(), RAW)


async def _hash_blob(store: BlobStore, cid: str) -> str:
    path = store.local_path(cid)
    if path is not None:
        return await asyncio.to_thread(_hash_path, path)
    hasher = blake3.blake3()
    async for chunk in store.read(cid):
        hasher.update(chunk)
    return cid_from_digest(hasher.digest(), RAW)


async def verify_blobs(
    db: Database, store: BlobStore, *, progress: Callable[[int], None] | None = None
) -> VerifyReport:
    """Re-hash every stored blob; report each whose bytes no longer match its CID and
    each referenced CID the store does not hold."""
    report = VerifyReport()
    seen: set[str] = set()
    async for blob in store.iter():
        seen.add(blob.cid)
        actual = await _hash_blob(store, blob.cid)
        expected_digest = digest_of(blob.cid)
        if digest_of(actual) != expected_digest:
            report.mismatched.append((blob.cid, actual))
        report.checked += 1
        report.bytes += blob.size
        if progress:
            progress(blob.size)
    async with db.session() as session:
        referenced = (await session.exec(select(col(BlobRef.cid)).distinct())).all()
    for cid in sorted(referenced):
        if cid not in seen and not await store.exists(cid):
            report.missing.append(cid)
    return report


@dataclass
class BackupReport:
    database: Path
    manifest: Path
    blobs: int
    copied: int


def _sqlite_backup(source: str, target: Path) -> None:
    tmp = target.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(source)
    dst = sqlite3.connect(tmp)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    os.replace(tmp, target)


def _pg_dump(url: str, target: Path) -> None:
    """``pg_dump`` of the database in its custom format (restore with ``pg_restore``); the
    password goes by environment, never on a command line others can read."""
    tool = shutil.which("pg_dump")
    if tool is None:
        raise Invalid(
            "backing up PostgreSQL needs pg_dump (PostgreSQL's client tools) on the PATH;"
            " install them, or run pg_dump yourself and `mstack backup` for the manifest"
        )
    parsed = make_url(url).set(drivername="postgresql")
    env = {**os.environ}
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    dsn = parsed.set(password=None).render_as_string(hide_password=False)
    tmp = target.with_suffix(".tmp")
    done = subprocess.run(  # noqa: S603 - pg_dump from PATH, arguments from the settings
        [tool, "--format=custom", "--no-owner", f"--file={tmp}", f"--dbname={dsn}"],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise Invalid(f"pg_dump failed: {done.stderr.strip().splitlines()[-1:]}")
    os.replace(tmp, target)


async def backup(
    db: Database, store: BlobStore, settings: Settings, dest: Path, *, with_blobs: bool = False
) -> BackupReport:
    """A consistent copy of the database and a manifest of every blob it references.

    SQLite: its online backup, so the server may keep running. PostgreSQL: ``pg_dump``
    (one snapshot; the manifest is read right after it, so it may name a few blobs of
    uploads made meanwhile, never miss one the dump references). With ``with_blobs`` the
    blobs are copied too (only those not already there; from a remote store each is
    verified against its CID on the way), making ``dest`` a data directory with the blobs
    on local disk. Without it, blobs stay where they are (on S3, the bucket keeps them).
    """
    dest.mkdir(parents=True, exist_ok=True)
    if settings.is_sqlite:
        source = make_url(settings.db_url).database
        assert source
        target = dest / "mstack.db"
        await asyncio.to_thread(_sqlite_backup, source, target)
        # The manifest lists what the copied database references, so it matches it exactly.
        copy = sqlite3.connect(target)
        try:
            cids = sorted(row[0] for row in copy.execute("SELECT DISTINCT cid FROM blob_refs"))
        finally:
            copy.close()
    else:
        target = dest / "mstack.pgdump"
        await asyncio.to_thread(_pg_dump, settings.db_url, target)
        async with db.session() as session:
            cids = sorted(set((await session.exec(select(col(BlobRef.cid)).distinct())).all()))
    manifest = dest / "manifest.json"
    entries = []
    copied = 0
    target_store = LocalBlobStore(dest / "blobs", dest / "tmp") if with_blobs else None
    for cid in cids:
        info = await store.stat(cid)
        entries.append({"cid": cid, "size": info.size if info else None})
        if target_store is None or info is None:
            continue
        blob_path = store.local_path(cid)
        if blob_path is not None:
            copied += await asyncio.to_thread(_copy_blob, blob_path, target_store.path_for(cid))
        elif await target_store.stat(cid) is None:
            if await copy_blob(store, target_store, info) != cid:
                raise Invalid(
                    f"blob {cid} in the store does not hash to its CID; run `mstack verify`"
                )
            copied += 1
    manifest.write_text(
        json.dumps({"created_at": utcnow().isoformat(), "blobs": entries}, indent=1) + "\n"
    )
    return BackupReport(database=target, manifest=manifest, blobs=len(entries), copied=copied)


def _copy_blob(source: Path, target: Path) -> int:
    if target.exists():
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    shutil.copyfile(source, tmp)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.chmod(tmp, 0o440)
    os.replace(tmp, target)
    return 1
