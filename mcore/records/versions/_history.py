"""An object's history: the version of a time or a CID, pages of versions, and any block
to whoever may read an object whose history holds it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Actor, require_scope
from mcore.access.objects import readable_records
from mcore.cid import DAG_CBOR, is_canonical
from mcore.errors import Invalid, NotFound
from mcore.pagination import (
    check_limit,
    decode_cursor,
    encode_cursor,
    fetch_page,
    unknown_cursor,
)
from mcore.records.blocks import get_blocks
from mcore.records.models import Record, RecordVersion
from mcore.records.schemas import VersionPage, VersionRead
from mcore.records.versions._chain import Subject


async def version_at(
    session: AsyncSession, record: Record, at: datetime, subject: Subject
) -> RecordVersion:
    """The version that was the head at time ``at`` (an aware datetime)."""
    if at.tzinfo is None:
        raise Invalid("the time needs a time zone, such as 2026-01-31T12:00:00Z", field="at")
    query = (
        select(RecordVersion)
        .where(col(RecordVersion.object_id) == record.id, col(RecordVersion.at) <= at)
        .order_by(col(RecordVersion.n).desc())
        .limit(1)
    )
    version = (await session.exec(query)).first()
    if version is None:
        raise NotFound(f"{subject.label} {record.id!r} did not exist yet at {at.isoformat()}")
    return version


async def version_by_cid(
    session: AsyncSession, record: Record, cid: str, subject: Subject
) -> RecordVersion:
    """One version of this object by its CID."""
    if not is_canonical(cid, DAG_CBOR):
        raise NotFound(f"{cid!r} is not a version CID (bafyr4i...)")
    query = select(RecordVersion).where(
        col(RecordVersion.object_id) == record.id, col(RecordVersion.cid) == cid
    )
    version = (await session.exec(query)).first()
    if version is None:
        raise NotFound(f"{cid!r} is not a version of {subject.label} {record.id!r}")
    return version


def version_read(version: RecordVersion) -> VersionRead:
    return VersionRead(
        cid=version.cid,
        content_cid=version.content_cid,
        n=version.n,
        by=version.by,
        at=version.at,
        deleted=version.content_cid is None,
    )


async def list_versions(
    session: AsyncSession, record: Record, *, cursor: str | None, limit: int
) -> VersionPage:
    """The object's history, newest first."""
    check_limit(limit)
    query = select(RecordVersion).where(col(RecordVersion.object_id) == record.id)
    after = decode_cursor(cursor)
    if after is not None:
        last = after.get("n")
        if not isinstance(last, int) or isinstance(last, bool):
            raise unknown_cursor()
        query = query.where(col(RecordVersion.n) < last)
    rows, last_row = await fetch_page(
        session, query.order_by(col(RecordVersion.n).desc()), limit=limit
    )
    return VersionPage(
        items=[version_read(v) for v in rows],
        next=None if last_row is None else encode_cursor({"n": last_row.n}),
    )


async def read_block(session: AsyncSession, *, actor: Actor, cid: str) -> bytes:
    """A content or version block, for a caller who may read an object whose history holds it."""
    require_scope(actor, "records:read")
    if not is_canonical(cid, DAG_CBOR):
        raise NotFound(f"no record block {cid!r}: record blocks have dag-cbor CIDs (bafyr4i...)")
    holders = select(RecordVersion.object_id).where(
        or_(col(RecordVersion.cid) == cid, col(RecordVersion.content_cid) == cid)
    )
    query = select(Record.id).where(col(Record.id).in_(holders), readable_records(actor)).limit(1)
    if (await session.exec(query)).first() is None:
        raise NotFound(f"no record block {cid} that you may read")
    blocks = await get_blocks(session, [cid])
    if cid not in blocks:
        raise NotFound(f"no record block {cid} that you may read")
    return blocks[cid]
