"""Derived files (previews, posters, renditions, text, transformed images).

Each is a blob with its own CID, linked to its source CID with the processor, its version
and its parameters, and counted in ``blob_refs`` (kind ``derived``). The same source and
parameters give the same row: a derivative is made once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import blake3
from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint, exists
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.clock import utcnow
from mcore.db import UTCDateTime, serialize_on
from mcore.ids import new_id
from mcore.refs import BlobRef, RefKind, add_ref, ref_count, remove_refs
from mcore.storage import BlobStore, StagedBlob

INFO = "info"  # the processor's findings about the source (JSON); never listed or served
# An image's copy without its personal metadata (GPS, camera, XMP, ...), which people other
# than its owner download (``mcore.media.strip``); made by its own processor, whose ``info``
# alone (no ``stripped``) says the original carries nothing to strip. Not a preview: never
# listed with them, named on the file record instead.
STRIPPED = "stripped"
PUBLIC_COPY = "image.public"
# The content types processed as images, each of which gets a public copy (or is found to
# need none) before anyone but its owner may download it.
IMAGE_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/gif",
        "image/tiff",
        "image/heic",
        "image/heif",
        "image/avif",
    }
)


class Derivative(SQLModel, table=True):
    """One derived blob of one source blob."""

    __tablename__ = "derivatives"
    __table_args__ = (
        UniqueConstraint("source_cid", "processor", "version", "params_key", "name"),
        Index("ix_derivatives_transient_last_used_at", "transient", "last_used_at"),
        # a page's previews by name (`named`): without it SQLite walks every lasting
        # derivative of the instance by the index above
        Index("ix_derivatives_source_name", "source_cid", "name", "transient"),
    )

    id: str = Field(primary_key=True, max_length=26)
    source_cid: str = Field(index=True, max_length=64)
    processor: str = Field(max_length=32)
    version: int
    params_key: str = Field(max_length=64)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    name: str = Field(max_length=32)
    cid: str = Field(index=True, max_length=64)
    content_type: str = Field(max_length=255)
    size: int = Field(sa_column=Column(BigInteger(), nullable=False))
    width: int | None = None
    height: int | None = None
    transient: bool = Field(default=False)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_used_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class DerivativeRead(SQLModel):
    """A preview or other derived file as the API lists it."""

    name: str
    cid: str
    content_type: str
    size: int
    width: int | None
    height: int | None
    processor: str
    version: int
    url: str


@dataclass(frozen=True)
class Recipe:
    """What makes a set of derivatives: processor, its version and its parameters."""

    processor: str
    version: int
    params: dict[str, Any]

    @property
    def key(self) -> str:
        canonical = json.dumps(self.params, sort_keys=True, separators=(",", ":"))
        return blake3.blake3(canonical.encode()).hexdigest()[:32]


@dataclass
class Output:
    """A derived file staged in the blob store's temp area, ready to be recorded."""

    name: str
    blob: StagedBlob
    content_type: str
    width: int | None = None
    height: int | None = None


async def stage_file(store: BlobStore, path: Path) -> StagedBlob:
    """Copy a file made by a processor into the blob store's temp area, hashing it."""
    writer = store.writer()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1024 * 1024):
                await writer.write(chunk)
        return await writer.finish()
    except BaseException:
        await writer.abort()
        raise


async def find(session: AsyncSession, source_cid: str, recipe: Recipe) -> dict[str, Derivative]:
    """The derivatives already made from ``source_cid`` by ``recipe``, by name."""
    query = select(Derivative).where(
        col(Derivative.source_cid) == source_cid,
        col(Derivative.processor) == recipe.processor,
        col(Derivative.version) == recipe.version,
        col(Derivative.params_key) == recipe.key,
    )
    return {d.name: d for d in (await session.exec(query)).all()}


async def record(
    session: AsyncSession,
    store: BlobStore,
    *,
    source_cid: str,
    recipe: Recipe,
    outputs: list[Output],
    transient: bool = False,
) -> dict[str, Derivative]:
    """Place each output under its CID and write its row and reference (inside the
    caller's write transaction). An output whose row already exists is dropped."""
    await serialize_on(session, f"derive:{source_cid}:{recipe.processor}:{recipe.key}")
    existing = await find(session, source_cid, recipe)
    for cid in sorted({o.blob.cid for o in outputs}):
        await serialize_on(session, f"blob:{cid}")
    now = utcnow()
    made = dict(existing)
    for output in outputs:
        if output.name in existing:
            await store.discard(output.blob)
            continue
        await store.place(output.blob)
        row = Derivative(
            id=new_id(),
            source_cid=source_cid,
            processor=recipe.processor,
            version=recipe.version,
            params_key=recipe.key,
            params=recipe.params,
            name=output.name,
            cid=output.blob.cid,
            content_type=output.content_type,
            size=output.blob.size,
            width=output.width,
            height=output.height,
            transient=transient,
            created_at=now,
            last_used_at=now,
        )
        session.add(row)
        await add_ref(session, row.cid, RefKind.derived, row.id)
        made[output.name] = row
    await session.flush()
    return made


async def remove(
    session: AsyncSession, store: BlobStore, row: Derivative, *, keep_blob: bool = False
) -> bool:
    """Forget a derivative; its blob goes at once when nothing else references it (True
    then). ``keep_blob`` leaves the blob in place all the same (for a dry run whose
    transaction is rolled back): True then says it would have gone."""
    await serialize_on(session, f"blob:{row.cid}")
    await remove_refs(session, RefKind.derived, row.id)
    await session.delete(row)
    await session.flush()
    if await ref_count(session, row.cid) == 0:
        if not keep_blob:
            await store.delete(row.cid)
        return True
    return False


async def having(session: AsyncSession, source_cids: Sequence[str], name: str) -> set[str]:
    """Which of these source blobs have a lasting derivative called ``name``."""
    if not source_cids:
        return set()
    query = select(Derivative.source_cid).where(
        col(Derivative.source_cid).in_(set(source_cids)),
        col(Derivative.name) == name,
        col(Derivative.transient).is_(False),
    )
    return set((await session.exec(query)).all())


async def named(session: AsyncSession, source_cids: Sequence[str], name: str) -> dict[str, str]:
    """The CID of the lasting derivative called ``name`` of each of these source blobs."""
    if not source_cids:
        return {}
    query = select(Derivative.source_cid, Derivative.cid).where(
        col(Derivative.source_cid).in_(set(source_cids)),
        col(Derivative.name) == name,
        col(Derivative.transient).is_(False),
    )
    return {str(source): str(cid) for source, cid in (await session.exec(query)).all()}


async def previews_of(session: AsyncSession, source_cid: str) -> list[Derivative]:
    """The lasting derivatives of a blob (newest processor version per name), info and the
    public copy left out."""
    query = (
        select(Derivative)
        .where(
            col(Derivative.source_cid) == source_cid,
            col(Derivative.transient).is_(False),
            col(Derivative.name).not_in((INFO, STRIPPED)),
        )
        .order_by(col(Derivative.name), col(Derivative.version).desc(), col(Derivative.id).desc())
    )
    seen: dict[str, Derivative] = {}
    for row in (await session.exec(query)).all():
        seen.setdefault(row.name, row)
    return list(seen.values())


@dataclass
class Pruned:
    """What :func:`prune_orphans` did: derivatives forgotten, and the blobs that went with
    them (CID and size; a blob another derivative or file still uses stays)."""

    derivatives: int = 0
    blobs: dict[str, int] = field(default_factory=dict)


async def prune_orphans(
    session: AsyncSession, store: BlobStore, *, keep_blobs: bool = False
) -> Pruned:
    """Forget derivatives whose source no file or record uses any more (after its last
    file was purged), and delete their blobs (``keep_blobs``: leave them, for a dry run
    whose transaction is rolled back)."""
    used = exists().where(
        col(BlobRef.cid) == col(Derivative.source_cid), col(BlobRef.kind) != RefKind.derived.value
    )
    rows = list((await session.exec(select(Derivative).where(~used))).all())
    pruned = Pruned(derivatives=len(rows))
    for row in rows:
        cid, size = row.cid, row.size
        if await remove(session, store, row, keep_blob=keep_blobs):
            pruned.blobs[cid] = size
    return pruned
