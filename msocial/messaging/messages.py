"""Messages: sent with text and attached files (each member must be able to read a file of
those bytes), edited and deleted by their sender, read up to a marker, paged newest first
and searched. Every member who is to hear one gets an event in the same transaction."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import case, false, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Actor, Role, require_create
from mcore.access.objects import readable_files
from mcore.cid import RAW, parse_cid
from mcore.clock import utcnow
from mcore.errors import Conflict, Forbidden, Invalid, TooLarge, TooManyRequests
from mcore.events import EventType
from mcore.files.models import File
from mcore.ids import new_id
from mcore.pagination import check_limit, decode_cursor, encode_cursor, unknown_cursor
from mcore.settings import MessagingSettings, Settings
from msocial.messaging._common import (
    WRITE_SCOPE,
    blocked_by,
    conversation_reads,
    live_accounts,
    membership,
    message_in,
    message_read,
    tell,
)
from msocial.messaging.models import (
    AccountBlock,
    Conversation,
    ConversationMember,
    Kind,
    Message,
)
from msocial.messaging.schemas import (
    ConversationRead,
    MessageCreate,
    MessagePage,
    MessageRead,
    MessageUpdate,
)

WINDOW = timedelta(minutes=1)
SEQ_MAX = 2**31 - 1  # messages are numbered in a 32-bit column


def _text(text: str, limits: MessagingSettings, *, attachments: bool) -> str:
    if "\x00" in text:
        raise Invalid("a message cannot contain NUL characters", field="text")
    size = len(text.encode())
    if size > limits.max_message_size:
        raise TooLarge(
            f"the message is {size} bytes; at most {limits.max_message_size} are taken"
            " (messaging.max_message_size)",
            field="text",
        )
    if not text.strip() and not attachments:
        raise Invalid("a message needs text or an attachment", field="text")
    return text


async def _check_rate(session: AsyncSession, actor: Actor, limits: MessagingSettings) -> None:
    """At most ``messages_per_minute`` in any minute: counted from the rows themselves, so
    every server process counts the same. One row is read, over the index: the oldest of
    the last ``messages_per_minute`` sent within the minute, if there are that many."""
    since = utcnow() - WINDOW
    oldest = (
        await session.exec(
            select(Message.created_at)
            .where(col(Message.sender_id) == actor.id, col(Message.created_at) > since)
            .order_by(col(Message.created_at).desc())
            .offset(limits.messages_per_minute - 1)
            .limit(1)
        )
    ).first()
    if oldest is not None:
        wait = (oldest + WINDOW - utcnow()).total_seconds()
        raise TooManyRequests(
            f"at most {limits.messages_per_minute} messages a minute"
            " (messaging.messages_per_minute); wait a little",
            retry_after=max(1, int(wait) + 1),
        )


async def _check_attachments(
    session: AsyncSession,
    actor: Actor,
    cids: list[str],
    members: list[ConversationMember],
    limits: MessagingSettings,
) -> list[str]:
    """The attached CIDs, once each, if every member may read a live file of each (asked of
    ``mcore.access`` as that member); ``Invalid`` otherwise, naming no one."""
    wanted = list(dict.fromkeys(parse_cid(c, codec=RAW, field="attachments") for c in cids))
    if len(wanted) > limits.max_attachments:
        raise Invalid(
            f"at most {limits.max_attachments} attachments (messaging.max_attachments)",
            field="attachments",
        )
    if not wanted:
        return wanted
    accounts = await live_accounts(session, [m.user_id for m in members])
    # the sender first, so their own mistake is told as theirs
    order = [actor.id, *sorted(a for a in accounts if a != actor.id)]
    for user_id in order:
        reader = actor if user_id == actor.id else Actor(user_id, Role(accounts[user_id].role))
        readable = set(
            (
                await session.exec(
                    select(File.cid)
                    .where(
                        col(File.cid).in_(wanted),
                        col(File.deleted_at).is_(None),
                        readable_files(reader),
                    )
                    .distinct()
                )
            ).all()
        )
        for cid in wanted:
            if cid in readable:
                continue
            if user_id == actor.id:
                raise Invalid(
                    f"no uploaded file with CID {cid} that you may read", field="attachments"
                )
            raise Invalid(
                f"not every member of this conversation may read the file {cid}; share it"
                " with them first",
                field="attachments",
            )
    return wanted


async def _members_hearing(
    session: AsyncSession, conversation_id: str, sender_id: str
) -> tuple[list[ConversationMember], list[str]]:
    """The conversation's members, and those who are to hear of the sender's messages: all
    but those who block the sender (one query)."""
    blocks = col(AccountBlock.blocker_id) == col(ConversationMember.user_id)
    rows = await session.exec(
        select(ConversationMember, AccountBlock.blocker_id)
        .outerjoin(AccountBlock, blocks & (col(AccountBlock.blocked_id) == sender_id))
        .where(col(ConversationMember.conversation_id) == conversation_id)
    )
    members: list[ConversationMember] = []
    hearers: list[str] = []
    for member, blocker in rows:
        members.append(member)
        if blocker is None:
            hearers.append(member.user_id)
    return members, hearers


async def send_message(
    session: AsyncSession,
    *,
    actor: Actor,
    settings: Settings,
    conversation_id: str,
    data: MessageCreate,
) -> MessageRead:
    require_create(actor, WRITE_SCOPE)
    conversation, _ = await membership(session, actor, conversation_id, scope=WRITE_SCOPE)
    limits = settings.messaging
    text = _text(data.text, limits, attachments=bool(data.attachments))
    members, hearers = await _members_hearing(session, conversation_id, actor.id)
    if conversation.kind == Kind.private and len(hearers) < len(members):
        raise Forbidden("this account does not take messages from you")
    attachments = await _check_attachments(session, actor, data.attachments, members, limits)
    await _check_rate(session, actor, limits)
    now = utcnow()
    seq = (
        await session.exec(
            update(Conversation)
            .where(col(Conversation.id) == conversation_id)
            .values(last_seq=col(Conversation.last_seq) + 1, updated_at=now)
            .returning(col(Conversation.last_seq))
        )
    ).scalar_one()
    message = Message(
        id=new_id(),
        conversation_id=conversation_id,
        seq=seq,
        sender_id=actor.id,
        text=text,
        attachments=attachments,
        created_at=now,
    )
    session.add(message)
    # one more unread for each hearer; what one sends, one has read
    sender = col(ConversationMember.user_id) == actor.id
    await session.exec(
        update(ConversationMember)
        .where(
            col(ConversationMember.conversation_id) == conversation_id,
            col(ConversationMember.user_id).in_(hearers),
        )
        .values(
            unread=case((sender, 0), else_=col(ConversationMember.unread) + 1),
            read_seq=case((sender, seq), else_=col(ConversationMember.read_seq)),
        )
    )
    await session.flush()
    read = message_read(message)
    await _announce(session, EventType.message_created, hearers, read)
    return read


async def _announce(
    session: AsyncSession, type: EventType, user_ids: list[str], message: MessageRead
) -> None:
    payload = {
        "conversation_id": message.conversation_id,
        "message": message.model_dump(mode="json"),
    }
    await tell(session, user_ids, type, payload)


async def _own_message(
    session: AsyncSession, actor: Actor, conversation_id: str, message_id: str
) -> tuple[Message, list[str]]:
    """The caller's own message, and the members to tell of a change to it."""
    await membership(session, actor, conversation_id, scope=WRITE_SCOPE)
    message = await message_in(session, conversation_id, message_id)
    if message.sender_id != actor.id:
        raise Forbidden("only its sender changes a message")
    _, hearers = await _members_hearing(session, conversation_id, actor.id)
    return message, hearers


async def edit_message(
    session: AsyncSession,
    *,
    actor: Actor,
    settings: Settings,
    conversation_id: str,
    message_id: str,
    data: MessageUpdate,
) -> MessageRead:
    message, hearers = await _own_message(session, actor, conversation_id, message_id)
    if message.deleted_at is not None:
        raise Conflict("this message was deleted; it cannot be edited")
    text = _text(data.text, settings.messaging, attachments=bool(message.attachments))
    if text == message.text:
        return message_read(message)
    message.text = text
    message.edited_at = utcnow()
    session.add(message)
    await session.flush()
    read = message_read(message)
    await _announce(session, EventType.message_edited, hearers, read)
    return read


async def delete_message(
    session: AsyncSession, *, actor: Actor, conversation_id: str, message_id: str
) -> MessageRead:
    """The sender's delete: the text and attachments go; a tombstone keeps the place."""
    message, hearers = await _own_message(session, actor, conversation_id, message_id)
    if message.deleted_at is None:
        message.text = None
        message.attachments = []
        message.deleted_at = utcnow()
        session.add(message)
        await session.flush()
        await _announce(session, EventType.message_deleted, hearers, message_read(message))
    return message_read(message)


async def list_messages(
    session: AsyncSession,
    *,
    actor: Actor,
    conversation_id: str,
    cursor: str | None,
    limit: int,
    q: str | None = None,
) -> MessagePage:
    """A page of history, newest first; with ``q``, only live messages whose text contains
    it (case-insensitive, ``%`` and ``_`` taken literally). Messages of accounts the caller
    blocks are left out."""
    check_limit(limit)
    await membership(session, actor, conversation_id)
    query = select(Message).where(
        col(Message.conversation_id) == conversation_id,
        col(Message.sender_id).not_in(blocked_by(actor.id)),
    )
    if q and "\x00" in q:
        query = query.where(false())  # no stored text holds a NUL
    elif q:
        query = query.where(
            col(Message.deleted_at).is_(None), col(Message.text).icontains(q, autoescape=True)
        )
    after = decode_cursor(cursor)
    if after is not None:
        last = after.get("seq")
        if not isinstance(last, int) or isinstance(last, bool) or not 0 < last <= SEQ_MAX:
            raise unknown_cursor()
        query = query.where(col(Message.seq) < last)
    rows = list(
        (await session.exec(query.order_by(col(Message.seq).desc()).limit(limit + 1))).all()
    )
    following = None
    if len(rows) > limit:
        del rows[limit:]
        following = encode_cursor({"seq": rows[-1].seq})
    return MessagePage(items=[message_read(m) for m in rows], next=following)


async def mark_read(
    session: AsyncSession, *, actor: Actor, conversation_id: str, message_id: str
) -> ConversationRead:
    """Move the caller's read marker forward to this message (never back), and count what
    is left unread after it (over the index, from the marker on)."""
    conversation, mine = await membership(session, actor, conversation_id)
    message = await message_in(session, conversation_id, message_id)
    if message.seq > mine.read_seq:
        left = (
            await session.exec(
                select(func.count())
                .select_from(Message)
                .where(
                    col(Message.conversation_id) == conversation_id,
                    col(Message.seq) > message.seq,
                    col(Message.sender_id) != actor.id,
                    col(Message.sender_id).not_in(blocked_by(actor.id)),
                )
            )
        ).one()
        mine.read_seq = message.seq
        mine.unread = int(left)
        session.add(mine)
        await session.flush()
    return (await conversation_reads(session, actor, [(conversation, mine)]))[0]
