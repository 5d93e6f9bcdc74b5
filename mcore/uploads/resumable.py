"""Resumable uploads (tus 1.0): bytes that arrive over several requests, durable as they
come, hashed as they come, and recorded by the upload op when the last one is in.

An upload is a row (``Upload``: its length and durable offset) and a temp file in the data
directory, ``tmp/uploads/<id>.tus``. Each ``append`` (a PATCH) takes the file's ``flock``,
so two requests never write one upload at once, in this process or another, checks the
offset, and streams the body in: received on the event loop while one thread hashes and
writes it, as an ordinary upload's bytes are. At least every ``uploads.checkpoint_every``
bytes, and when the body ends or the client goes away, what arrived is made durable and
its offset recorded; a server killed mid-PATCH resumes from the last checkpoint (the bytes
past it are cut off when the next PATCH starts).

The BLAKE3 state cannot be saved, so each process keeps the hasher of the uploads it is
receiving (``_HASHERS``, by upload and offset). A PATCH that finds none for its offset
(after a restart, or when the previous PATCH went to another process) hashes the bytes
already on disk once, and goes on from there: an upload that is never interrupted is read
from disk only for its first 64 KiB (type detection), never hashed twice.

On the last byte the upload goes through the upload op (``record_and_enqueue``: the type
and size limits, dedupe, the file record, its job and event) in the transaction that
marks the upload finished. What a client may not do (another's upload, a wrong offset, a
body past ``Upload-Length``, a checksum mismatch, a CID other than the expected one)
raises a domain error and keeps nothing of that request.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import fcntl
import hashlib
import os
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import blake3
from sqlmodel import col, select

from mcore.access import Actor, require_create
from mcore.cid import RAW, cid_from_digest, parse_cid
from mcore.clock import utcnow
from mcore.db import Database
from mcore.errors import (
    BadRequest,
    ChecksumMismatch,
    Conflict,
    Gone,
    Invalid,
    NotFound,
    TooLarge,
)
from mcore.files.models import File
from mcore.files.names import sanitize_filename
from mcore.files.sniff import SNIFF_SIZE
from mcore.files.staging import StagedUpload, check_size, detect_type, discard_uploads
from mcore.ids import new_id
from mcore.settings import Settings
from mcore.storage import BlobStore
from mcore.storage.local._direct import DiskWriter
from mcore.uploads.models import Upload
from mcore.uploads.ops import record_and_enqueue

SUFFIX = ".tus"
CHUNK = 1024 * 1024  # bytes handed to the writing thread at a time
MAX_PENDING = 4
LOCK_WAIT = 5.0  # seconds a request waits for another one on the same upload to let go
ORPHAN_AGE = 3600.0  # a temp file without a row (a crash while creating) goes after this
# The checksums a client may send (``Upload-Checksum``): hashlib's fixed-length ones, by
# their tus names (``sha1`` is the one the extension requires).
CHECKSUMS = tuple(sorted(a for a in hashlib.algorithms_guaranteed if not a.startswith("shake")))


def upload_dir(settings: Settings) -> Path:
    """Where the bytes of unfinished uploads are (in the temp area, on the blobs' disk)."""
    return settings.tmp_dir / "uploads"


def _path(settings: Settings, upload_id: str) -> Path:
    return upload_dir(settings) / f"{upload_id}{SUFFIX}"


# ------------------------------------------------------------------ Upload-Metadata


@dataclass(frozen=True)
class Metadata:
    """What ``Upload-Metadata`` says: the file's name, declared type, folder and CID."""

    filename: str | None = None
    declared_type: str | None = None
    folder_id: str | None = None
    expected_cid: str | None = None
    header: str | None = None


FILENAME_KEYS = ("filename", "name")
TYPE_KEYS = ("filetype", "content_type", "type")
CID_KEYS = ("cid", "expected_cid")


def parse_metadata(header: str | None) -> Metadata:
    """``key base64,key base64,...`` (a key may have no value); ``BadRequest`` for a
    malformed one, ``Invalid`` for a CID that is not a canonical file CID."""
    if header is None or not header.strip():
        return Metadata()
    values: dict[str, str] = {}
    for pair in header.split(","):
        key, _, value = pair.strip().partition(" ")
        if not key or not key.isascii() or not key.isprintable() or key in values:
            raise BadRequest(f"Upload-Metadata has a bad or repeated key: {key!r}")
        try:
            values[key] = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise BadRequest(
                f"Upload-Metadata's {key!r} is not base64-encoded UTF-8 text"
            ) from None

    def first(keys: tuple[str, ...]) -> str | None:
        return next((values[k] for k in keys if values.get(k)), None)

    cid = first(CID_KEYS)
    if cid is not None:
        parse_cid(cid, codec=RAW)
    folder = first(("folder_id", "folder"))
    if folder is not None and len(folder) > 64:
        raise Invalid("folder_id is too long", field="folder_id")
    declared = first(TYPE_KEYS)
    return Metadata(
        filename=first(FILENAME_KEYS),
        declared_type=declared[:255] if declared else None,
        folder_id=folder,
        expected_cid=cid,
        header=header.strip(),
    )


@dataclass(frozen=True)
class Checksum:
    """An ``Upload-Checksum``: the algorithm and the digest the request's body must have."""

    algorithm: str
    digest: bytes


def parse_checksum(header: str | None) -> Checksum | None:
    if header is None:
        return None
    algorithm, _, value = header.strip().partition(" ")
    if algorithm not in CHECKSUMS:
        raise BadRequest(
            f"Upload-Checksum: {algorithm!r} is not supported (supported: {','.join(CHECKSUMS)})"
        )
    try:
        digest = base64.b64decode(value.strip(), validate=True)
    except binascii.Error:
        raise BadRequest("Upload-Checksum: the checksum is not base64") from None
    return Checksum(algorithm, digest)


# ------------------------------------------------------------------ per-process state


class _Hashers:
    """The BLAKE3 state of uploads this process received last, by upload and offset."""

    LIMIT = 256

    def __init__(self) -> None:
        self._by_id: OrderedDict[str, tuple[int, Any]] = OrderedDict()

    def take(self, upload_id: str, offset: int) -> Any | None:
        found = self._by_id.pop(upload_id, None)
        return found[1] if found is not None and found[0] == offset else None

    def keep(self, upload_id: str, offset: int, hasher: Any) -> None:
        self._by_id[upload_id] = (offset, hasher)
        while len(self._by_id) > self.LIMIT:
            self._by_id.popitem(last=False)

    def drop(self, upload_id: str) -> None:
        self._by_id.pop(upload_id, None)


_HASHERS = _Hashers()
rehashed = 0  # how many times a PATCH had to hash the bytes already on disk (tests read it)


class _FdHold:
    """The open, locked descriptor of an upload's temp file (``Hold`` for the blob store:
    the lock goes when it is released, once)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


async def _lock(path: Path) -> _FdHold:
    """Open and lock an upload's temp file, waiting a little for another request on it."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        raise Gone("this upload's bytes are gone (it expired or was ended)") from None
    hold = _FdHold(fd)
    deadline = time.monotonic() + LOCK_WAIT
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                hold.release()
                raise Conflict("another request is writing into this upload; try again") from None
            await asyncio.sleep(0.05)
    if os.fstat(fd).st_nlink == 0:
        hold.release()
        raise Gone("this upload was ended while this request waited")
    return hold


def _hash_existing(fd: int, size: int) -> Any:
    hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
    pos = 0
    while pos < size:
        data = os.pread(fd, min(8 * CHUNK, size - pos), pos)
        if not data:
            raise OSError(f"the upload's temp file is shorter than its offset ({pos} < {size})")
        hasher.update(data)
        pos += len(data)
    return hasher


class _Receiver:
    """One PATCH's bytes into the temp file from ``start``: hashed (and checksummed) and
    written on one thread while the event loop receives the next chunk."""

    def __init__(self, hold: _FdHold, path: Path, start: int, hasher: Any, sum_: Any) -> None:
        self.fd = hold.fd
        self.hasher = hasher
        self.sum = sum_
        self.disk = DiskWriter(path, self.fd)
        self.disk.offset = start
        self.received = start
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tus-writer")
        self._pending: deque[Future[None]] = deque()
        self._buf = bytearray()

    def _sink(self, data: bytearray) -> None:
        self.hasher.update(data)
        if self.sum is not None:
            self.sum.update(data)
        self.disk.write(data)

    async def _submit(self, data: bytearray) -> None:
        self._pending.append(self._pool.submit(self._sink, data))
        while len(self._pending) > MAX_PENDING:
            await asyncio.wrap_future(self._pending.popleft())
        while self._pending and self._pending[0].done():
            self._pending.popleft().result()

    async def write(self, data: bytes) -> None:
        self.received += len(data)
        self._buf += data
        if len(self._buf) >= CHUNK:
            buf, self._buf = self._buf, bytearray()
            await self._submit(buf)

    async def _drain(self) -> None:
        while self._pending:
            await asyncio.wrap_future(self._pending.popleft())

    async def checkpoint(self) -> int:
        """Make what reached the disk so far durable, and return the offset up to which it
        is (the bytes still in the writer's buffer count from the next checkpoint). The
        sync runs on a thread of its own, so the writer goes on meanwhile."""
        written = await asyncio.wrap_future(self._pool.submit(lambda: self.disk.offset))
        await asyncio.to_thread(os.fdatasync, self.fd)
        return written

    async def flush(self) -> int:
        """Write and make durable every byte received; the offset after them."""
        if self._buf:
            buf, self._buf = self._buf, bytearray()
            await self._submit(buf)
        await self._drain()
        await asyncio.wrap_future(self._pool.submit(self.disk.flush))
        return await self.checkpoint()

    async def stop(self) -> None:
        """Wait for the writing thread and let go of it (the bytes stay as written)."""
        for fut in self._pending:
            fut.cancel()
        await asyncio.gather(
            *(asyncio.wrap_future(f) for f in self._pending if not f.cancelled()),
            return_exceptions=True,
        )
        self._pending.clear()
        self._pool.shutdown(wait=True)
        self.disk.close()


# ------------------------------------------------------------------ the ops


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
    byte is accepted. An empty one is finished at once."""
    require_create(actor, "files:write")
    if length < 0:
        raise BadRequest("Upload-Length must be a whole number of bytes")
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
    path = _path(settings, upload.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600))
    try:
        async with db.session(write=True) as session:
            session.add(upload)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if length == 0:
        hold = await _lock(path)
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
    _HASHERS.drop(upload_id)
    _path(settings, upload_id).unlink(missing_ok=True)
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
    path = _path(settings, row.id)
    hold = await _lock(path)
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
    hold: _FdHold,
    path: Path,
    chunks: AsyncIterator[bytes],
    checksum: Checksum | None,
) -> Upload:
    global rehashed
    start = row.offset
    await asyncio.to_thread(os.ftruncate, hold.fd, start)  # past a crashed request's checkpoint
    hasher: Any = _HASHERS.take(row.id, start)
    if hasher is None:
        hasher = await asyncio.to_thread(_hash_existing, hold.fd, start)
        if start:
            rehashed += 1
    # a request refused midway goes back to its start, or to its last checkpoint (whose
    # hash state is not kept: the next request hashes the bytes on disk again)
    saved_offset, saved_hasher = start, hasher.copy()
    sum_ = hashlib.new(checksum.algorithm) if checksum is not None else None
    receiver = _Receiver(hold, path, start, hasher, sum_)
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
            _HASHERS.keep(row.id, start, saved_hasher)
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
            _HASHERS.keep(row.id, start, saved_hasher)
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
    _HASHERS.keep(row.id, end, hasher)
    if failure is not None:
        raise failure
    return row


async def _check_type(db: Database, settings: Settings, row: Upload, hold: _FdHold) -> str:
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
    hold: _FdHold,
    path: Path,
    hasher: Any,
) -> Upload:
    """The last byte is in: the bytes become a file record through the upload op, in the
    transaction that marks the upload finished. Any refusal ends the upload, keeping
    nothing."""
    _HASHERS.drop(row.id)
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
                    session, store, actor=actor, uploads=[staged], settings=settings
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
    path = _path(settings, row.id)
    if row.file_id is None and path.exists():
        hold = await _lock(path)
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
        path = _path(settings, row.id)
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
                _HASHERS.drop(row.id)
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
