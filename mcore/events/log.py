"""The event log: rows whose increasing id is the sequence number a client resumes from.

An event is written in the same transaction as the change it reports, so a client never
hears of a change that was rolled back and never misses one that committed. Any process
(server or worker) publishes; readers are woken by ``mcore.events.wakeup``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, delete, func, insert, text
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Actor
from mcore.clock import utcnow
from mcore.db import UTCDateTime
from mcore.events.wakeup import EVENTS, mark

# Any fixed number: the transaction-scoped advisory lock that orders event ids on PostgreSQL.
_PG_EVENTS_LOCK = 0x6D73_6576_656E_7473 & 0x7FFF_FFFF_FFFF_FFFF


class EventType(StrEnum):
    file_stored = "file.stored"
    job_progress = "job.progress"
    file_ready = "file.ready"
    job_failed = "job.failed"
    sign_in_failures = "account.sign_in_failures"  # someone is guessing the password
    share_granted = "share.granted"  # something was shared with the account (or its group)
    share_changed = "share.changed"  # a share's level or expiry changed
    share_revoked = "share.revoked"
    group_joined = "group.joined"
    group_left = "group.left"
    # conversations (msocial.messaging): one row per member who is to hear it
    conversation_created = "conversation.created"
    member_added = "conversation.member_added"
    member_removed = "conversation.member_removed"
    message_created = "message.created"
    message_edited = "message.edited"
    message_deleted = "message.deleted"


# The scope a credential needs to hear each kind of event. An event tells what reading the
# thing would (a file's name, CID, state), so a key without `files:read` hears none of
# them; an account's own alerts reach every credential of it. A kind missing here needs
# `files:read`. DESIGN.md: what a credential may learn follows its scopes, not its account.
EVENT_SCOPES: dict[str, str | None] = {
    EventType.file_stored: "files:read",
    EventType.job_progress: "files:read",
    EventType.file_ready: "files:read",
    EventType.job_failed: "files:read",
    EventType.sign_in_failures: None,
    # what was shared, by whom, at what level: the account's own notices, as sign-in alerts
    EventType.share_granted: None,
    EventType.share_changed: None,
    EventType.share_revoked: None,
    EventType.group_joined: None,
    EventType.group_left: None,
    # what was said, and who talks: as reading the conversation would (records:read, the
    # scope the conversation routes read under)
    EventType.conversation_created: "records:read",
    EventType.member_added: "records:read",
    EventType.member_removed: "records:read",
    EventType.message_created: "records:read",
    EventType.message_edited: "records:read",
    EventType.message_deleted: "records:read",
}


def may_hear(actor: Actor, event_type: str) -> bool:
    """Whether ``actor``'s credential may receive an event of this kind (of its account)."""
    scope = EVENT_SCOPES.get(event_type, "files:read")
    return scope is None or actor.has_scope(scope)


class Event(SQLModel, table=True):
    """One thing that happened, for one user."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_user_id_id", "user_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    user_id: str = Field(max_length=64)
    type: str = Field(max_length=32)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


def message(event: Event) -> dict[str, Any]:
    """The JSON a client receives for an event."""
    assert event.id is not None
    return {
        "seq": event.id,
        "type": event.type,
        "at": event.created_at.isoformat(),
        "data": event.payload,
    }


async def publish(
    session: AsyncSession, *, user_id: str, type: EventType, payload: dict[str, Any]
) -> None:
    """Record an event in the caller's transaction; readers wake once it commits.

    On PostgreSQL the insert takes a transaction-scoped lock first, so ids become visible
    in the order they were given out and a reader following ``id > last`` skips none.
    Call it last in a transaction: the lock is held until the commit.
    """
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_EVENTS_LOCK})
    await connection.execute(
        insert(Event).values(user_id=user_id, type=type.value, payload=payload, created_at=utcnow())
    )
    mark(session, EVENTS)


async def events_after(
    session: AsyncSession, *, after: int, user_id: str | None = None, limit: int = 500
) -> list[Event]:
    """Events with an id above ``after`` (of one user, or of everyone), oldest first."""
    query = select(Event).where(col(Event.id) > after)
    if user_id is not None:
        query = query.where(col(Event.user_id) == user_id)
    query = query.order_by(col(Event.id)).limit(limit)
    rows = list((await session.exec(query)).all())
    for row in rows:
        session.expunge(row)  # immutable: usable after the (read-only) session ends
    return rows


async def last_event_id(session: AsyncSession) -> int:
    """The highest sequence number so far (0 when there is none)."""
    found = (await session.exec(select(func.max(col(Event.id))))).one()
    return int(found or 0)


async def first_event_id(session: AsyncSession) -> int | None:
    """The lowest sequence number still kept, or None."""
    found = (await session.exec(select(func.min(col(Event.id))))).one()
    return int(found) if found is not None else None


async def prune_events(session: AsyncSession, *, before: datetime) -> int:
    """Delete events older than ``before``; the newest event is always kept so ids never
    restart (SQLite's AUTOINCREMENT and PostgreSQL's sequence also see to that)."""
    newest = await last_event_id(session)
    connection = await session.connection()
    result = await connection.execute(
        delete(Event).where(col(Event.created_at) < before, col(Event.id) < newest)
    )
    return int(getattr(result, "rowcount", 0) or 0)
