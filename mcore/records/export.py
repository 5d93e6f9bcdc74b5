"""Exporting an object as a CAR v1: its head version as the root, every version and content
block of its history, and on request the files its versions link as raw blocks.

A file over ``MAX_BLOCK_SIZE`` (1 MiB) is one block larger than IPFS nodes exchange, so it
is left out and named in the export's manifest, a DAG-CBOR block
``{$type: "mstack/car-manifest", root, files, omitted: [{cid, size, reason}]}`` that the
CAR carries after the record blocks (not a root: the root is the head version). Chunking
such files into a UnixFS DAG would give them a second CID beside the one mstack names them
by; a later step may do that. Files the caller may not read are left out the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Actor
from mcore.access.objects import blob_type_for
from mcore.records.blocks import get_history_blocks
from mcore.records.car import MAX_BLOCK_SIZE, car_size, write_car
from mcore.records.encoding import block_cid, decode, encode, file_links, link
from mcore.records.models import RecordVersion
from mcore.records.versions import Subject, find_object
from mcore.storage import BlobStore

MANIFEST_TYPE = "mstack/car-manifest"


@dataclass(frozen=True)
class Omitted:
    """A linked file the export leaves out, and why."""

    cid: str
    size: int | None
    reason: str


@dataclass(frozen=True)
class ExportPlan:
    """What a CAR export holds, known before the first byte is sent."""

    object_id: str
    root: str
    blocks: list[tuple[str, bytes]]  # version and content blocks, newest version first
    files: list[tuple[str, int]]  # raw blocks to stream from the blob store
    omitted: list[Omitted]
    manifest: tuple[str, bytes] | None

    @property
    def size(self) -> int:
        """The CAR's length in bytes."""
        sections = [(cid, len(data)) for cid, data in self.all_blocks] + self.files
        return car_size([self.root], sections)

    @property
    def all_blocks(self) -> list[tuple[str, bytes]]:
        return self.blocks + ([self.manifest] if self.manifest else [])

    def stream(self, store: BlobStore) -> AsyncIterator[bytes]:
        """The CAR's bytes, file blocks read from ``store`` as they are sent."""

        async def sections() -> AsyncIterator[tuple[str, AsyncIterator[bytes], int]]:
            for cid, data in self.all_blocks:
                yield cid, _once(data), len(data)
            for cid, size in self.files:
                yield cid, store.read(cid), size

        return _coalesced(write_car([self.root], sections()))


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


COALESCE = 64 * 1024


async def _coalesced(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The CAR's pieces joined into writes of about ``COALESCE`` bytes: a record block is a
    few hundred bytes, and one send per section cost more than its bytes."""
    pending: list[bytes] = []
    held = 0
    async for chunk in chunks:
        pending.append(chunk)
        held += len(chunk)
        if held >= COALESCE:
            yield b"".join(pending)
            pending, held = [], 0
    if pending:
        yield b"".join(pending)


async def export_object(
    session: AsyncSession,
    *,
    actor: Actor,
    subject: Subject,
    object_id: str,
    store: BlobStore,
    files: bool = False,
    originals: bool = False,
) -> ExportPlan:
    """The CAR of an object the actor may read (deleted or not): every block of its history
    and, with ``files``, the linked files the actor may read that fit in one IPFS block."""
    record = await find_object(session, actor=actor, subject=subject, object_id=object_id)
    versions = (
        await session.exec(
            select(RecordVersion.cid, RecordVersion.content_cid)
            .where(col(RecordVersion.object_id) == record.id)
            .order_by(col(RecordVersion.n).desc())
        )
    ).all()
    order: list[str] = []
    seen: set[str] = set()
    for version_cid, content_cid in versions:
        order.append(version_cid)
        if content_cid is not None and content_cid not in seen:
            seen.add(content_cid)
            order.append(content_cid)
    stored = await get_history_blocks(session, record.id)
    missing = [cid for cid in order if cid not in stored]
    if missing:
        raise RuntimeError(f"blocks missing from the block table: {missing}")
    blocks = [(cid, stored[cid]) for cid in order]
    included: list[tuple[str, int]] = []
    omitted: list[Omitted] = []
    manifest: tuple[str, bytes] | None = None
    if files:
        linked: set[str] = set()
        for content_cid in seen:
            linked |= file_links(decode(stored[content_cid]))
        for cid in sorted(linked):
            info = await store.stat(cid)
            if not actor.has_scope("files:read") or (
                await blob_type_for(session, actor=actor, cid=cid, originals=originals) is None
            ):
                omitted.append(Omitted(cid, None, "you may not read this file"))
            elif info is None:
                omitted.append(Omitted(cid, None, "the file is not in the store"))
            elif info.size > MAX_BLOCK_SIZE:
                omitted.append(
                    Omitted(cid, info.size, f"larger than one IPFS block ({MAX_BLOCK_SIZE} bytes)")
                )
            else:
                included.append((cid, info.size))
        data = encode(
            {
                "$type": MANIFEST_TYPE,
                "root": link(record.head),
                "files": [link(cid) for cid, _ in included],
                "omitted": [
                    {"cid": link(o.cid), "size": o.size, "reason": o.reason} for o in omitted
                ],
            }
        )
        manifest = (block_cid(data), data)
    return ExportPlan(
        object_id=record.id,
        root=record.head,
        blocks=blocks,
        files=included,
        omitted=omitted,
        manifest=manifest,
    )
