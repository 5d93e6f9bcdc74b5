"""Purging an object (admin only): its history, and every block no other object shares."""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Actor
from mcore.cid import DAG_CBOR, is_canonical
from mcore.db import serialize_on
from mcore.errors import Forbidden
from mcore.records.models import Block, Record, RecordTerm, RecordVersion
from mcore.records.versions._chain import Subject, find_object
from mcore.refs import RefKind, remove_refs


async def purge_object(
    session: AsyncSession, *, actor: Actor, subject: Subject, object_id: str
) -> list[str]:
    """Remove an object, its history and every block no other object shares (admin only).

    Returns the CIDs of the blocks removed. Links from other records to it stay as
    they were written: history is not rewritten.
    """
    if not actor.is_admin:
        raise Forbidden("only an admin may purge a record; delete it instead")
    if is_canonical(object_id, DAG_CBOR):
        await serialize_on(session, f"record:{object_id}")
    record = await find_object(session, actor=actor, subject=subject, object_id=object_id)
    versions = list(
        (
            await session.exec(
                select(RecordVersion).where(col(RecordVersion.object_id) == record.id)
            )
        ).all()
    )
    contents = {v.content_cid for v in versions if v.content_cid is not None}
    for cid in sorted(contents):
        await serialize_on(session, f"block:{cid}")
    await session.exec(delete(RecordTerm).where(col(RecordTerm.record_id) == record.id))
    await session.exec(delete(RecordVersion).where(col(RecordVersion.object_id) == record.id))
    await session.exec(delete(Record).where(col(Record.id) == record.id))
    shared = set(
        (
            await session.exec(
                select(RecordVersion.content_cid).where(
                    col(RecordVersion.content_cid).in_(sorted(contents))
                )
            )
        ).all()
    )
    removable = sorted(contents - shared) + sorted(v.cid for v in versions)
    await session.exec(delete(Block).where(col(Block.cid).in_(removable)))
    for cid in removable:
        await remove_refs(session, RefKind.record, cid)
    session.expunge(record)
    for version in versions:
        session.expunge(version)
    return removable
