"""A version chain: an object's first version, finding and locking it, and each new head.

The head moves by compare-and-swap on the previous head, so two concurrent updates never
both win. Checks who may read and write; never commits.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Action, Actor, Visibility, require_moderate, require_scope
from mcore.access.objects import may_read_record, record_level, require_level
from mcore.cid import DAG_CBOR, is_canonical
from mcore.clock import utcnow
from mcore.db import serialize_on
from mcore.errors import Gone, NotFound, PreconditionFailed
from mcore.records.blocks import put_block, put_encoded_many
from mcore.records.encoding import encode, link
from mcore.records.models import Record, RecordTerm, RecordVersion

VERSION_TYPE = "mstack/version"
NONCE_SIZE = 16


@dataclass(frozen=True)
class Subject:
    """What an op is about, for its messages: ``artist`` and its type ``mart/artist``."""

    type_name: str
    label: str


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
    content_block: bytes,
    actor: Actor,
    visibility: Visibility,
) -> tuple[Record, RecordVersion]:
    """Write the first version of a new object owned by ``actor``, whose content is
    ``content_block`` (made by ``encode``); its CID is the object's id.

    The version's random nonce makes two objects with the same content, author and
    instant two different objects.
    """
    return (
        await create_objects(
            session, subject=subject, contents=[(content_block, visibility)], actor=actor
        )
    )[0]


async def create_objects(
    session: AsyncSession,
    *,
    subject: Subject,
    contents: Sequence[tuple[bytes, Visibility]],
    actor: Actor,
) -> list[tuple[Record, RecordVersion]]:
    """:func:`create_object` for each (content block, visibility), in order, in a few
    statements whatever their number."""
    content_cids = await put_encoded_many(session, [block for block, _ in contents])
    at = utcnow()
    version_cids = await put_encoded_many(
        session,
        [
            encode(
                version_value(
                    content_cid=content_cid,
                    prev=None,
                    by=actor.id,
                    at=at,
                    n=1,
                    nonce=os.urandom(NONCE_SIZE),
                )
            )
            for content_cid in content_cids
        ],
    )
    made = []
    for (_, visibility), content_cid, version_cid in zip(
        contents, content_cids, version_cids, strict=True
    ):
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
            object_id=version_cid,
            n=1,
            cid=version_cid,
            content_cid=content_cid,
            by=actor.id,
            at=at,
        )
        made.append((record, version))
    session.add_all([record for record, _ in made])
    await session.flush()
    session.add_all([version for _, version in made])
    await session.flush()
    return made


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
    if (
        record is None
        or record.type != subject.type_name
        or not await may_read_record(session, actor, record)
    ):
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
    action: Action = Action.update,
) -> Record:
    """The object, ready to be changed by ``actor``: serialized against other writers of
    it, readable and writable by the actor, its head still one of ``if_match`` (when
    given, else ``PreconditionFailed``), and not deleted unless ``allow_deleted``.

    ``action`` says what the change is (``update``: a new version, needing ``edit``;
    ``delete`` and ``share``, a change of visibility: ``manage``), checked against the
    actor's level on it (``mcore.access.objects.record_level``: owner, admin, or a share).
    With ``moderate`` the actor need not hold any but must be a moderator or an admin: for
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
        if allow_deleted and record.deleted_at is not None:
            action = Action.restore  # bringing a deleted object back
        held = await record_level(session, actor, record)
        require_level(held, action, what=subject.label)
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


async def replace_terms(
    session: AsyncSession, record_id: str, terms: Iterable[tuple[str, str]], *, new: bool = False
) -> None:
    """Index the multi-valued searchable values of an object's new head (``new``: an object
    made in this transaction, which has no terms yet)."""
    if not new:
        await session.exec(delete(RecordTerm).where(col(RecordTerm.record_id) == record_id))
    for field, value in sorted(set(terms)):
        session.add(RecordTerm(record_id=record_id, field=field, value=value))
    await session.flush()
