"""Copy every blob from one store to another (``mstack storage migrate``), each verified
against its CID on arrival before it is placed, so the target never holds bytes that are
not what their name says. Resumable: a blob already in the target (same CID and size) is
skipped, so an interrupted run simply starts again. The source is only read, so the
instance keeps serving from it meanwhile."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from mcore.storage.base import BlobInfo, BlobStore


@dataclass
class MigrateReport:
    copied: int = 0
    copied_bytes: int = 0
    skipped: int = 0  # already in the target
    # (cid, what the bytes read from the source hash to): never placed in the target
    mismatched: list[tuple[str, str]] = field(default_factory=list)
    # in the target under the CID, with another size: left alone (blobs are immutable)
    conflicting: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatched and not self.conflicting


async def copy_blob(source: BlobStore, target: BlobStore, blob: BlobInfo) -> str:
    """Stream one blob into the target's temp area, hashing; place it only when the
    bytes hash to its CID. Returns what they hash to."""
    writer = target.writer()
    try:
        async for chunk in source.read(blob.cid):
            await writer.write(chunk)
        staged = await writer.finish()
    except BaseException:
        await writer.abort()
        raise
    try:
        if staged.cid == blob.cid:
            await target.place(staged)
    finally:
        await target.discard(staged)
    return staged.cid


async def migrate_blobs(
    source: BlobStore,
    target: BlobStore,
    *,
    dry_run: bool = False,
    progress: Callable[[BlobInfo, str], None] | None = None,
) -> MigrateReport:
    """Copy what the target lacks; ``progress(blob, outcome)`` after each blob."""
    report = MigrateReport()
    async for blob in source.iter():
        present = await target.stat(blob.cid)
        if present is not None:
            if present.size == blob.size:
                report.skipped += 1
                outcome = "skipped"
            else:
                report.conflicting.append(blob.cid)
                outcome = "conflicting"
        elif dry_run:
            report.copied += 1
            report.copied_bytes += blob.size
            outcome = "would copy"
        else:
            actual = await copy_blob(source, target, blob)
            if actual == blob.cid:
                report.copied += 1
                report.copied_bytes += blob.size
                outcome = "copied"
            else:
                report.mismatched.append((blob.cid, actual))
                outcome = "mismatched"
        if progress is not None:
            progress(blob, outcome)
    return report
