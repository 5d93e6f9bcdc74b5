"""Who may read stored objects: files, records, and the blobs they reference.

The role rules of ``mcore.access.roles`` applied to rows, in two forms that must agree: a
check on one row already loaded, and an SQL condition, so lists filter in the database by
the same rule before the page is cut. DESIGN.md, "Who may read and write": a blob is
readable by whoever may read a live file record of it, or an object some version of
which links it.

This module sits above the tables of files and records and below their ops, which both
ask it; it writes nothing and raises nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_, true
from sqlalchemy.orm import Mapped
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access.roles import Actor, Visibility, can_read
from mcore.files.models import File
from mcore.records.models import Record, RecordVersion
from mcore.refs import BlobRef, RefKind

UNTYPED = "application/octet-stream"


def may_read_file(actor: Actor, file: File) -> bool:
    """Whether ``actor`` may read this file record (trashed or not: the caller decides)."""
    return can_read(actor, owner_id=file.owner_id, visibility=file.visibility, hidden=file.hidden)


def may_read_record(actor: Actor, record: Record) -> bool:
    """Whether ``actor`` may read this versioned object (deleted or not)."""
    return can_read(
        actor, owner_id=record.owner_id, visibility=record.visibility, hidden=record.hidden
    )


def can_read_clause(
    actor: Actor, *, owner_id: Mapped[str], visibility: Mapped[Any], hidden: Mapped[bool]
) -> ColumnElement[bool]:
    """``mcore.access.can_read`` as an SQL condition over a table's columns."""
    if actor.is_moderator:
        return true()
    return or_(owner_id == actor.id, (visibility == Visibility.public) & hidden.is_(False))


def readable_files(actor: Actor) -> ColumnElement[bool]:
    """SQL condition matching the file rows ``actor`` may read (as :func:`may_read_file`)."""
    return can_read_clause(
        actor, owner_id=col(File.owner_id), visibility=col(File.visibility), hidden=col(File.hidden)
    )


def readable_records(actor: Actor) -> ColumnElement[bool]:
    """SQL condition matching the objects ``actor`` may read (as :func:`may_read_record`)."""
    return can_read_clause(
        actor,
        owner_id=col(Record.owner_id),
        visibility=col(Record.visibility),
        hidden=col(Record.hidden),
    )


async def links_readable_blob(session: AsyncSession, *, actor: Actor, cid: str) -> bool:
    """True when the actor may read an object some version of which links the blob ``cid``."""
    contents = select(BlobRef.ref_id).where(
        col(BlobRef.cid) == cid, col(BlobRef.kind) == RefKind.record.value
    )
    holders = select(RecordVersion.object_id).where(col(RecordVersion.content_cid).in_(contents))
    query = select(Record.id).where(col(Record.id).in_(holders), readable_records(actor)).limit(1)
    return (await session.exec(query)).first() is not None


async def blob_type_for(session: AsyncSession, *, actor: Actor, cid: str) -> str | None:
    """The content type under which ``actor`` may read the blob ``cid``; None when they may
    not.

    Readable through a live file record the actor may read (its detected type), or
    through an object the actor may read that links it (the type of any file record of
    those bytes). Scopes are the caller's to check.
    """
    query = (
        select(File.content_type)
        .where(col(File.cid) == cid, col(File.deleted_at).is_(None), readable_files(actor))
        .limit(1)
    )
    found = (await session.exec(query)).first()
    if found is not None:
        return found
    if not await links_readable_blob(session, actor=actor, cid=cid):
        return None
    any_file = select(File.content_type).where(col(File.cid) == cid).limit(1)
    return (await session.exec(any_file)).first() or UNTYPED
