"""Versioned objects, like git's trees and commits (DESIGN.md, "Versionable records").

Content blocks carry a record's fields and its ``$type``; version blocks chain them:
``{$type: "mstack/version", content, prev, by, at, n}``, the first with a random ``nonce``
and no ``prev``, a deletion with ``deleted: true`` and no ``content``. An object's stable
id is the CID of its first version; its head moves by compare-and-swap on the previous
head. Every block is stored as the exact bytes that were hashed.

These functions check who may read and write, and never commit.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Actor, Visibility, require_moderate, require_scope, require_write
from mcore.access.objects import may_read_record, readable_records
from mcore.cid import DAG_CBOR, is_canonical
from mcore.clock import utcnow
from mcore.db import serialize_on
from mcore.errors import Forbidden, Gone, Invalid, NotFound, PreconditionFailed
from mcore.pagination import (
    check_limit,
    decode_cursor,
    encode_cursor,
    fetch_page,
    unknown_cursor,
)
from mcore.records.blocks import get_blocks, put_block
from mcore.records.encoding import link
from mcore.records.models import Block, Record, RecordTerm, RecordVersion
from mcore.records.schemas import VersionPage, VersionRead
from mcore.refs import RefKind, remove_refs

VERSION_TYPE = "mstack/version"
NONCE_SIZE = 16


@dataclass(frozen=True)
class Subject:
    """What an op is about, for its messages: ``artist`` and its type ``mart/artist``."""

    type_name: str
    label: str


# -- objects --------------------------------------------------------------------------------


def version_value(
    *,
    content_cid: str | None,
    prev: str | None,
    by: str,
    at: datetime,
    n: int,
    nonce: bytes | None = None,
) -> dict[str, Any]:
    """A version record: its content (none for a deletion), the version before it, who
    wrote it and when, its number, and for the first a random nonce."""
    value: dict[str, Any] = {
        "$type": VERSION_TYPE,
        "content": link(content_cid),
        "prev": link(prev),
        "by": by,
        "at": at,
        "n": n,
        "nonce": nonce,
    }
    if content_cid is None:
        value["deleted"] = True
    return value


async def create_object(
    session: AsyncSession,
    *,
    subject: Subject,
    content: Mapping[str, Any],
    actor: Actor,
    visibility: Visibility,
) -> tuple[Record, RecordVersion]:
    """Write the first version of a new object owned by ``actor``; its CID is the object's id.

    The version's random nonce makes two objects with the same content, author and
    instant two different objects.
    """
    content_cid = await put_block(session, content)
    at = utcnow()
    version_cid = await put_block(
        session,
        version_value(
            content_cid=content_cid,
            prev=None,
            by=actor.id,
            at=at,
            n=1,
            nonce=os.urandom(NONCE_SIZE),
        ),
    )
    record = Record(
        id=version_cid,
        type=subject.type_name,
        owner_id=actor.id,
        visibility=visibility,
        head=version_cid,
        n=1,
        content_cid=content_cid,
        created_at=at,
        updated_at=at,
    )
    version = RecordVersion(
        object_id=version_cid, n=1, cid=version_cid, content_cid=content_cid, by=actor.id, at=at
    )
    session.add(record)
    await session.flush()
    session.add(version)
    await session.flush()
    return record, version


def _not_found(subject: Subject, object_id: str) -> NotFound:
    return NotFound(f"no {subject.label} with id {object_id!r}")


async def find_object(
    session: AsyncSession,
    *,
    actor: Actor,
    subject: Subject,
    object_id: str,
    fresh: bool = False,
) -> Record:
    """An object of this type that the actor may read, deleted or not; else ``NotFound``."""
    require_scope(actor, "records:read")
    record = None
    if is_canonical(object_id, DAG_CBOR):
        record = await session.get(Record, object_id, populate_existing=fresh)
    if record is None or record.type != subject.type_name or not may_read_record(actor, record):
        raise _not_found(subject, object_id)
    return record


def require_live(record: Record, subject: Subject) -> None:
    """``Gone`` when the object's head is a deletion."""
    if record.deleted_at is not None:
        raise Gone(
            f"{subject.label} {record.id!r} was deleted; its versions can still be read,"
            " and reverting to one brings it back"
        )


async def lock_object(
    session: AsyncSession,
    *,
    actor: Actor,
    subject: Subject,
    object_id: str,
    if_match: Collection[str] | None,
    allow_deleted: bool = False,
    moderate: bool = False,
) -> Record:
    """The object, ready to be changed by ``actor``: serialized against other writers of
    it, readable and writable by the actor, its head still one of ``if_match`` (when
    given, else ``PreconditionFailed``), and not deleted unless ``allow_deleted``.

    With ``moderate`` the actor need not own it but must be a moderator or an admin: for
    hiding or showing it, which changes no content."""
    require_scope(actor, "records:write")
    if is_canonical(object_id, DAG_CBOR):
        await serialize_on(session, f"record:{object_id}")
    record = await find_object(
        session, actor=actor, subject=subject, object_id=object_id, fresh=True
    )
    if moderate:
        require_moderate(actor, scope="records:write")
    else:
        require_write(actor, owner_id=record.owner_id, what=subject.label, scope="records:write")
    if if_match is not None and record.head not in if_match:
        raise PreconditionFailed(
            f"this {subject.label} has changed since you read it (its head is now"
            f" {record.head}); read it again and re-apply your change",
            head=record.head,
        )
    if not allow_deleted:
        require_live(record, subject)
    return record


async def append_version(
    session: AsyncSession,
    record: Record,
    *,
    content_cid: str | None,
    actor: Actor,
) -> RecordVersion | None:
    """Write a new head for a locked object: the stored content block ``content_cid``, or a
    deletion when ``None``.

    Returns ``None`` and writes nothing when the content equals the head's (an update
    that changes nothing makes no version). The head moves only if it is still the one
    this transaction read, so a lost update surfaces as ``PreconditionFailed``.
    """
    if content_cid == record.content_cid:
        return None
    at = max(utcnow(), record.updated_at)
    n = record.n + 1
    version_cid = await put_block(
        session,
        version_value(content_cid=content_cid, prev=record.head, by=actor.id, at=at, n=n),
    )
    statement = (
        update(Record)
        .where(col(Record.id) == record.id, col(Record.head) == record.head)
        .values(
            head=version_cid,
            n=n,
            content_cid=content_cid,
            updated_at=at,
            deleted_at=at if content_cid is None else None,
        )
    )
    result = await session.exec(statement)
    if result.rowcount != 1:
        raise PreconditionFailed(
            f"this record changed while {actor.id!r} was updating it; read it again and retry"
        )
    await session.refresh(record)
    version = RecordVersion(
        object_id=record.id, n=n, cid=version_cid, content_cid=content_cid, by=actor.id, at=at
    )
    session.add(version)
    await session.flush()
    return version


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


async def replace_terms(
    session: AsyncSession, record_id: str, terms: Iterable[tuple[str, str]]
) -> None:
    """Index the multi-valued searchable values of an object's new head."""
    await session.exec(delete(RecordTerm).where(col(RecordTerm.record_id) == record_id))
    for field, value in sorted(set(terms)):
        session.add(RecordTerm(record_id=record_id, field=field, value=value))
    await session.flush()


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
