"""Ingest: stream bytes into the temp area while hashing, check limits, then place and record.

Limits are checked while the bytes arrive: an upload over the size limit or of a refused
type stops at once and leaves nothing behind. Rows are written only after the blob is in
place, inside one transaction serialized with garbage collection.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import blake3
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Actor, require_create
from mcore.cid import RAW, cid_from_digest, parse_cid
from mcore.clock import utcnow
from mcore.db import serialize_on
from mcore.errors import Invalid, TooLarge, UnsupportedType
from mcore.files.models import File, FileStatus
from mcore.files.names import sanitize_filename
from mcore.files.sniff import SNIFF_SIZE, is_allowed, sniff
from mcore.ids import new_id
from mcore.refs import RefKind, add_ref
from mcore.settings import Settings
from mcore.storage import BlobStore, StagedBlob

EMPTY_TYPE = "application/x-empty"


@dataclass
class StagedUpload:
    """One file hashed into the temp area, checked, and ready to be recorded."""

    blob: StagedBlob
    filename: str
    content_type: str
    declared_type: str | None


def _human(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def check_size(size: int, settings: Settings) -> None:
    """Refuse a size over the limit (also used on a declared Content-Length)."""
    if size > settings.max_upload_size:
        raise TooLarge(
            f"the file is larger than this server accepts ({_human(settings.max_upload_size)})"
        )


def detect_type(head: bytes, settings: Settings, *, complete: bool, filename: str) -> str:
    """The detected content type, or ``UnsupportedType`` when it is not allowed."""
    detected = sniff(head, complete=complete)
    if detected == EMPTY_TYPE or is_allowed(detected, settings.allowed_content_types):
        return detected
    raise UnsupportedType(
        f"{filename!r} contains {detected}, which this server does not accept"
        f" (allowed: {', '.join(settings.allowed_content_types)})"
    )


def check_expected(staged: StagedBlob, expected: str | None) -> None:
    if expected is not None and staged.cid != expected:
        raise Invalid(
            f"the bytes received hash to {staged.cid}, not the expected {expected};"
            " nothing was stored",
            field="cid",
        )


class Stager:
    """Feeds one file's bytes to a blob writer, enforcing size and type as they arrive."""

    def __init__(
        self,
        store: BlobStore,
        settings: Settings,
        *,
        filename: str | None,
        declared_type: str | None = None,
        expected_cid: str | None = None,
    ) -> None:
        if expected_cid is not None:
            parse_cid(expected_cid, codec=RAW)
        self.settings = settings
        self.filename = sanitize_filename(filename)
        self.declared_type = declared_type
        self.expected_cid = expected_cid
        self.writer = store.writer()
        self._head = bytearray()
        self._detected: str | None = None

    async def feed(self, chunk: bytes) -> None:
        check_size(self.writer.size + len(chunk), self.settings)
        if self._detected is None:
            self._head += chunk[: SNIFF_SIZE - len(self._head)]
            if len(self._head) >= SNIFF_SIZE:
                self._detected = detect_type(
                    bytes(self._head), self.settings, complete=False, filename=self.filename
                )
        await self.writer.write(chunk)

    async def finish(self) -> StagedUpload:
        """Make the bytes durable and check the whole: type of a short file, expected CID."""
        try:
            if self._detected is None:
                self._detected = detect_type(
                    bytes(self._head), self.settings, complete=True, filename=self.filename
                )
            staged = await self.writer.finish()
            try:
                check_expected(staged, self.expected_cid)
            except Invalid:
                os.unlink(staged.temp_path)
                raise
        except BaseException:
            await self.writer.abort()
            raise
        return StagedUpload(
            blob=staged,
            filename=self.filename,
            content_type=self._detected,
            declared_type=self.declared_type,
        )

    async def abort(self) -> None:
        await self.writer.abort()


async def stage_stream(
    store: BlobStore,
    chunks: AsyncIterable[bytes],
    settings: Settings,
    *,
    filename: str | None,
    declared_type: str | None = None,
    expected_cid: str | None = None,
) -> StagedUpload:
    """Stream bytes into the temp area, enforcing size and type while they arrive."""
    stager = Stager(
        store, settings, filename=filename, declared_type=declared_type, expected_cid=expected_cid
    )
    try:
        async for chunk in chunks:
            await stager.feed(chunk)
        return await stager.finish()
    except BaseException:
        await stager.abort()
        raise


def _hash_file(src: Path) -> tuple[str, int, bytes]:
    """Hash a file in place and make it durable; return its CID, size and first bytes."""
    hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
    size = 0
    head = b""
    buf = bytearray(4 * 1024 * 1024)
    view = memoryview(buf)
    with open(src, "rb", buffering=0) as f:
        while n := f.readinto(buf):
            if not head:
                head = bytes(view[: min(n, SNIFF_SIZE)])
            hasher.update(view[:n])
            size += n
        os.fsync(f.fileno())
    return cid_from_digest(hasher.digest(), RAW), size, head


async def stage_path(
    store: BlobStore, path: Path, settings: Settings, *, move: bool = False
) -> StagedUpload:
    """Stage a file already on this machine. ``move`` adopts it in place when on the same disk.

    A moved file ends up under its CID (or is removed when the same bytes are already
    stored); a copied one is left as it was.
    """
    name = sanitize_filename(path.name)
    check_size(path.stat().st_size, settings)
    tmp_dir = getattr(store, "tmp_dir", None)
    if move and tmp_dir is not None and os.stat(path).st_dev == os.stat(tmp_dir).st_dev:
        cid, size, head = await asyncio.to_thread(_hash_file, path)
        detected = detect_type(head, settings, complete=size <= SNIFF_SIZE, filename=name)
        staged = StagedBlob(cid=cid, size=size, temp_path=path, adopted=True)
        return StagedUpload(blob=staged, filename=name, content_type=detected, declared_type=None)

    async def chunks() -> AsyncIterable[bytes]:
        with open(path, "rb") as f:
            while data := await asyncio.to_thread(f.read, 4 * 1024 * 1024):
                yield data

    staged_upload = await stage_stream(store, chunks(), settings, filename=path.name)
    if move:
        with contextlib.suppress(OSError):
            os.unlink(path)
    return staged_upload


async def record_uploads(
    session: AsyncSession,
    store: BlobStore,
    *,
    actor: Actor,
    uploads: Sequence[StagedUpload],
    status: FileStatus = FileStatus.stored,
) -> list[File]:
    """Place staged blobs under their CIDs and write one file row (and reference) each.

    Runs inside the caller's write transaction; blobs are placed after the lock is held
    so garbage collection can never delete a blob between placing and referencing it.
    """
    require_create(actor, "files:write")
    for cid in sorted({u.blob.cid for u in uploads}):
        await serialize_on(session, f"blob:{cid}")
    now = utcnow()
    files = []
    for upload in uploads:
        await store.place(upload.blob)
        file = File(
            id=new_id(),
            cid=upload.blob.cid,
            owner_id=actor.id,
            filename=upload.filename,
            size=upload.blob.size,
            content_type=upload.content_type,
            declared_type=upload.declared_type,
            status=status,
            created_at=now,
            updated_at=now,
        )
        session.add(file)
        await add_ref(session, file.cid, RefKind.file, file.id)
        files.append(file)
    await session.flush()
    return files


async def discard_uploads(store: BlobStore, uploads: Sequence[StagedUpload]) -> None:
    """Remove temp files of uploads that were not (or not all) recorded."""
    for upload in uploads:
        await store.discard(upload.blob)
