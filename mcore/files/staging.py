"""Staging: bytes into the temp area, hashed, checked against the limits, made durable.

Limits are checked while the bytes arrive: an upload over the size limit or of a refused
type stops at once and leaves nothing behind. Nothing here touches the database (the
``ingest`` module places staged blobs and writes their rows), so it stays light to import.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from threading import Event

from mcore.cid import RAW, parse_cid
from mcore.errors import Invalid, TooLarge, UnsupportedType
from mcore.files.names import sanitize_filename
from mcore.files.sniff import SNIFF_SIZE, is_allowed, sniff
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
        self.store = store
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
                await self.store.discard(staged)
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


def check_file(path: Path, settings: Settings) -> tuple[str, int]:
    """Check a local file against the limits before copying it: (detected type, size)."""
    name = sanitize_filename(path.name)
    size = path.stat().st_size
    check_size(size, settings)
    with open(path, "rb") as f:
        head = f.read(SNIFF_SIZE)
    return detect_type(head, settings, complete=size <= SNIFF_SIZE, filename=name), size


def stage_path_sync(
    store: BlobStore,
    path: Path,
    settings: Settings,
    *,
    move: bool = False,
    stop: Event | None = None,
) -> StagedUpload:
    """Stage a file already on this machine (blocking; run it in a thread).

    ``move`` adopts the file in place when it is on the same disk as the store: it ends up
    under its CID, or is removed when the same bytes are already stored. Otherwise the file
    is copied and left as it was; setting ``stop`` abandons a copy (``InterruptedError``).
    """
    detected, _ = check_file(path, settings)
    staged = store.adopt_sync(path) if move else None
    if staged is None:
        staged = store.copy_in_sync(path, stop)
        if move:
            path.unlink(missing_ok=True)
    return StagedUpload(
        blob=staged,
        filename=sanitize_filename(path.name),
        content_type=detected,
        declared_type=None,
    )


async def discard_uploads(store: BlobStore, uploads: Sequence[StagedUpload]) -> None:
    """Remove temp files of uploads that were not (or not all) recorded."""
    for upload in uploads:
        await store.discard(upload.blob)
