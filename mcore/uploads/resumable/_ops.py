"""The resumable-upload ops: create, append (a PATCH), finish, terminate, expire."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import blake3
from sqlmodel import col, select

from mcore.access import Actor
from mcore.cid import RAW, cid_from_digest
from mcore.clock import utcnow
from mcore.db import Database
from mcore.errors import BadRequest, ChecksumMismatch, Conflict, Gone, Invalid, NotFound, TooLarge
from mcore.files.models import File
from mcore.files.names import sanitize_filename
from mcore.files.sniff import SNIFF_SIZE
from mcore.files.staging import StagedUpload, check_size, detect_type, discard_uploads
from mcore.ids import new_id
from mcore.settings import Settings
from mcore.storage import BlobStore
from mcore.uploads.models import Upload
from mcore.uploads.ops import record_and_enqueue, upload_folder
from mcore.uploads.resumable._file import (
    HASH_STATES,
    SUFFIX,
    FdHold,
    Receiver,
    hash_existing,
    lock_upload,
    upload_dir,
    upload_path,
)
from mcore.uploads.resumable._headers import Checksum, Metadata

ORPHAN_AGE = 3600.0  # a temp file without a row (a crash while creating) goes after this


async def _row(db: Database, upload_id: str) -> Upload | None:
    async with db.session() as session:
        return await session.get(Upload, upload_id)


def _visible(row: Upload | None, actor: Actor) -> Upload:
    if row is None or row.owner_id != actor.id:
        raise NotFound("there is no such upload (or it is another account's)")
    return row


def _live(row: Upload) -> Upload:
    if row.file_id is None and row.expires_at <= utcnow():
        raise Gone("this upload expired before it was finished; start it again")
    return row


async def get_upload(db: Database, *, actor: Actor, upload_id: str) -> Upload:
    """The caller's upload (``NotFound`` for another's; ``Gone`` once it has expired)."""
    return _live(_visible(await _row(db, upload_id), actor))


async def upload_file(db: Database, upload: Upload) -> File | None:
    """The file record a finished upload became."""
    if upload.file_id is None:
        return None
    async with db.session() as session:
        return await session.get(File, upload.file_id)


async def create_upload(
    db: Database,
    store: BlobStore,
    settings: Settings,
    *,
    actor: Actor,
    length: int,
    metadata: Metadata,
) -> Upload:
    """A new empty upload of ``length`` bytes, checked against the size limit before any
    byte is accepted, as are the folder it goes into and the caller's right to add to it
    (``upload_folder``: seed 000's checks). An empty one is finished at once."""
    if length < 0:
        raise BadRequest("Upload-Length must be a whole number of bytes")
    async with db.session() as session:
        await upload_folder(
            session,
            actor=actor,
            folder_id=metadata.folder_id,
            settings=settings,
            size=length,
            check_only=True,
        )
    check_size(length, settings)
    now = utcnow()
    upload = Upload(
        id=new_id(),
        owner_id=actor.id,
        length=length,
        filename=sanitize_filename(metadata.filename),
        declared_type=metadata.declared_type,
        folder_id=metadata.folder_id,
        expected_cid=metadata.expected_cid,
        metadata_header=metadata.header,
        created_at=now,
        updated_at=now,
        expires_at=now + settings.uploads.expire_after,
    )
    path = upload_path(settings, upload.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600))
    try:
        async with db.session(write=True) as session:
            session.add(upload)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if length == 0:
        hold = await lock_upload(path)
        try:
            return await _finish(db, store, settings, actor, upload, hold, path, blake3.blake3())
        finally:
            hold.release()
    return upload


async def _save_offset(db: Database, settings: Settings, upload_id: str, offset: int) -> None:
    async with db.session(write=True) as session:
        row = await session.get(Upload, upload_id)
        if row is not None:
            now = utcnow()
            row.offset = offset
            row.updated_at = now
            row.expires_at = now + settings.uploads.expire_after
            session.add(row)


async def _remove(db: Database, settings: Settings, upload_id: str) -> None:
    """Forget an upload and its bytes (nothing is left behind)."""
    HASH_STATES.drop(upload_id)
    upload_path(settings, upload_id).unlink(missing_ok=True)
    async with db.session(write=True) as session:
        row = await session.get(Upload, upload_id)
        if row is not None:
            await session.delete(row)


async def append(
    db: Database,
    store: BlobStore,
    settings: Settings,
    *,
    actor: Actor,
    upload_id: str,
    offset: int,
    chunks: AsyncIterator[bytes],
    length: int | None = None,
    checksum: Checksum | None = None,
) -> Upload:
    """Write one request's body into the upload at ``offset`` (which must be where it is:
    ``Conflict`` otherwise) and return it, finished and recorded when that was its last byte.

    ``length`` is the body's declared size, refused before any byte is read if it goes
    past the upload's end. A body cut off (the client gone) keeps what arrived, unless it
    came with a ``checksum``, which only a whole body can match; that request's error is
    raised after the bytes are safe.
    """
    row = _live(_visible(await _row(db, upload_id), actor))
    if row.file_id is not None:
        if offset == row.length:
            return row  # finished already: a client repeating the last request
        raise Conflict(f"this upload is finished; it is at offset {row.length}", offset=row.length)
    if offset != row.offset:
        raise Conflict(
            f"this upload is at offset {row.offset}, not {offset}: ask HEAD and resume there",
            offset=row.offset,
        )
    if length is not None and offset + length > row.length:
        raise TooLarge(
            f"the body ({length} bytes from offset {offset}) goes past Upload-Length"
            f" ({row.length} bytes); nothing of it was kept"
        )
    path = upload_path(settings, row.id)
    hold = await lock_upload(path)
    try:
        current = _visible(await _row(db, upload_id), actor)
        if current.offset != offset or current.file_id is not None:
            raise Conflict(
                f"this upload moved on to offset {current.offset} meanwhile; resume there",
                offset=current.offset,
            )
        return await _receive(db, store, settings, actor, current, hold, path, chunks, checksum)
    finally:
        hold.release()


async def _receive(
    db: Database,
    store: BlobStore,
    settings: Settings,
    actor: Actor,
    row: Upload,
    hold: FdHold,
    path: Path,
    chunks: AsyncIterator[bytes],
    checksum: Checksum | None,
) -> Upload:
    start = row.offset
    await asyncio.to_thread(os.ftruncate, hold.fd, start)  # past a crashed request's checkpoint
    hasher: Any = HASH_STATES.take(row.id, start)
    if hasher is None:
        hasher = await asyncio.to_thread(hash_existing, hold.fd, start)
        if start:
            HASH_STATES.rehashed += 1
    # a request refused midway goes back to its start, or to its last checkpoint (whose
    # hash state is not kept: the next request hashes the bytes on disk again)
    saved_offset, saved_hasher = start, hasher.copy()
    sum_ = hashlib.new(checksum.algorithm) if checksum is not None else None
    receiver = Receiver(hold, path, start, hasher, sum_)
    every = settings.uploads.checkpoint_every
    failure: BaseException | None = None
    # at most one checkpoint at a time, in the background: receiving goes on meanwhile
    checkpoint: asyncio.Task[int] | None = None
    asked_at = start

    async def record_checkpoint() -> int:
        done = await receiver.checkpoint()
        if done > saved_offset:
            await _save_offset(db, settings, row.id, done)
        return max(done, saved_offset)

    async def settle() -> None:
        nonlocal checkpoint, saved_offset
        if checkpoint is not None:
            task, checkpoint = checkpoint, None
            saved_offset = await task

    try:
        try:
            async for chunk in chunks:
                if receiver.received + len(chunk) > row.length:
                    raise TooLarge(
                        f"the body goes past Upload-Length ({row.length} bytes); nothing of"
                        " this request was kept"
                    )
                await receiver.write(chunk)
                if checkpoint is not None and checkpoint.done():
                    await settle()
                if sum_ is None and checkpoint is None and receiver.received - asked_at >= every:
                    asked_at = receiver.received
                    checkpoint = asyncio.create_task(record_checkpoint())
        except (TooLarge, asyncio.CancelledError):
            raise
        except Exception as exc:  # the client went away, or its body stalled: keep it
            failure = exc
        await settle()
        end = await receiver.flush()
        if (
            checksum is not None
            and sum_ is not None
            and (failure is not None or sum_.digest() != checksum.digest)
        ):
            await asyncio.to_thread(os.ftruncate, hold.fd, start)
            HASH_STATES.keep(row.id, start, saved_hasher)
            if failure is not None:
                raise failure
            raise ChecksumMismatch(
                f"the body's {checksum.algorithm} checksum does not match"
                f" Upload-Checksum; it was not kept (the upload stays at offset {start})"
            )
    except TooLarge:
        await settle()
        await receiver.stop()
        await asyncio.to_thread(os.ftruncate, hold.fd, saved_offset)
        if saved_offset == start:
            HASH_STATES.keep(row.id, start, saved_hasher)
        raise
    finally:
        if checkpoint is not None:  # cancelled mid-request: let the checkpoint end first
            with contextlib.suppress(Exception):
                await asyncio.shield(checkpoint)
        await receiver.stop()
    await _save_offset(db, settings, row.id, end)
    row.offset = end
    if start < SNIFF_SIZE <= end < row.length:
        await _check_type(db, settings, row, hold)
    if end == row.length:
        return await _finish(db, store, settings, actor, row, hold, path, hasher)
    HASH_STATES.keep(row.id, end, hasher)
    if failure is not None:
        raise failure
    return row


async def _check_type(db: Database, settings: Settings, row: Upload, hold: FdHold) -> str:
    """The detected type, as soon as enough bytes are in; a refused type ends the upload."""
    head = await asyncio.to_thread(os.pread, hold.fd, SNIFF_SIZE, 0)
    try:
        return detect_type(head, settings, complete=row.length < SNIFF_SIZE, filename=row.filename)
    except Exception:
        await _remove(db, settings, row.id)
        raise


async def _finish(
    db: Database,
    store: BlobStore,
    settings: Settings,
    actor: Actor,
    row: Upload,
    hold: FdHold,
    path: Path,
    hasher: Any,
) -> Upload:
    """The last byte is in: the bytes become a file record through the upload op, in the
    transaction that marks the upload finished. Any refusal ends the upload, keeping
    nothing."""
    HASH_STATES.drop(row.id)
    cid = cid_from_digest(hasher.digest(), RAW)
    try:
        content_type = await _check_type(db, settings, row, hold)
        if row.expected_cid is not None and cid != row.expected_cid:
            raise Invalid(
                f"the bytes received hash to {cid}, not the expected {row.expected_cid};"
                " nothing was stored",
                field="cid",
            )
        blob = await asyncio.to_thread(store.stage_hashed_sync, path, cid, row.length, hold)
        staged = StagedUpload(
            blob=blob,
            filename=row.filename,
            content_type=content_type,
            declared_type=row.declared_type,
        )
        try:
            async with db.session(write=True) as session:
                (file,) = await record_and_enqueue(
                    session,
                    store,
                    actor=actor,
                    uploads=[staged],
                    settings=settings,
                    folder_id=row.folder_id,
                )
                live = await session.get(Upload, row.id)
                if live is None:
                    raise Gone("this upload was ended while its last bytes were stored")
                now = utcnow()
                live.offset = row.length
                live.file_id = file.id
                live.cid = file.cid
                live.updated_at = now
                live.expires_at = now + settings.uploads.expire_after
                session.add(live)
        finally:
            await discard_uploads(store, [staged])
    except BaseException:
        with contextlib.suppress(Exception):
            await _remove(db, settings, row.id)
        raise
    path.unlink(missing_ok=True)
    return live


async def terminate(db: Database, settings: Settings, *, actor: Actor, upload_id: str) -> None:
    """End an upload and remove its bytes (a finished one's file record stays)."""
    row = _visible(await _row(db, upload_id), actor)
    path = upload_path(settings, row.id)
    if row.file_id is None and path.exists():
        hold = await lock_upload(path)
        try:
            await _remove(db, settings, row.id)
        finally:
            hold.release()
    else:
        await _remove(db, settings, row.id)


@dataclass
class ExpiredUploads:
    """What :func:`expire_uploads` removed (or, dry, would)."""

    uploads: list[str]
    freed_bytes: int = 0


def _try_lock(path: Path) -> int | None:
    """The file locked (its descriptor), None when a request holds it, -1 when it is gone."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return -1
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


async def expire_uploads(
    db: Database, settings: Settings, *, now: datetime | None = None, dry_run: bool = False
) -> ExpiredUploads:
    """Remove the uploads past their expiry and their temp files (``gc``), and temp files
    that no upload names (a crash between creating one and recording it), once older than
    an hour. One a request is writing into is left for the next run."""
    now = now or utcnow()
    report = ExpiredUploads(uploads=[])
    async with db.session() as session:
        rows = (await session.exec(select(Upload).where(col(Upload.expires_at) <= now))).all()
        known = set((await session.exec(select(col(Upload.id)))).all())
    for row in rows:
        path = upload_path(settings, row.id)
        fd = _try_lock(path)
        if fd is None:
            continue
        try:
            size = path.stat().st_size if fd >= 0 else 0
            if not dry_run:
                async with db.session(write=True) as session:
                    live = await session.get(Upload, row.id)
                    if live is None or live.expires_at > now:
                        continue
                    await session.delete(live)
                path.unlink(missing_ok=True)
                HASH_STATES.drop(row.id)
        finally:
            if fd >= 0:
                os.close(fd)
        report.uploads.append(row.id)
        report.freed_bytes += size
    folder = upload_dir(settings)
    if folder.is_dir():
        cutoff = time.time() - ORPHAN_AGE
        for entry in os.scandir(folder):
            name = entry.name.removesuffix(SUFFIX)
            if not entry.name.endswith(SUFFIX) or name in known:
                continue
            st = entry.stat(follow_symlinks=False)
            if st.st_mtime < cutoff:
                if not dry_run:
                    Path(entry.path).unlink(missing_ok=True)
                report.freed_bytes += st.st_size
    return report
