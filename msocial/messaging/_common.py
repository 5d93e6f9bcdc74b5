"""What the conversation ops share: membership, accounts, blocks, and the reads they give."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Actor, require_account, require_scope
from mcore.auth.models import User
from mcore.errors import NotFound
from mcore.events import EventType, publish
from mcore.ids import is_id
from msocial.messaging.models import AccountBlock, Conversation, ConversationMember, Message
from msocial.messaging.schemas import ConversationMemberRead, ConversationRead, MessageRead

READ_SCOPE = "records:read"  # conversations are read, and written, under the records scopes
WRITE_SCOPE = "records:write"


def require_reader(actor: Actor, scope: str = READ_SCOPE) -> None:
    """An account (a key: with ``scope``) may use conversations at all."""
    require_account(actor)
    require_scope(actor, scope)


NOT_YOURS = "no such conversation of yours"


async def message_in(session: AsyncSession, conversation_id: str, message_id: str) -> Message:
    """A message of this conversation, or ``NotFound``."""
    message = await session.get(Message, message_id) if is_id(message_id) else None
    if message is None or message.conversation_id != conversation_id:
        raise NotFound("no such message in this conversation", field="message_id")
    return message


async def membership(
    session: AsyncSession, actor: Actor, conversation_id: str, *, scope: str = READ_SCOPE
) -> tuple[Conversation, ConversationMember]:
    """The conversation and the caller's place in it; ``NotFound`` for anyone not in it
    (admins too: what people say to each other is theirs)."""
    require_reader(actor, scope)
    if not is_id(conversation_id):
        raise NotFound(NOT_YOURS)
    found = (
        await session.exec(
            select(Conversation, ConversationMember)
            .join(
                ConversationMember,
                col(ConversationMember.conversation_id) == col(Conversation.id),
            )
            .where(col(Conversation.id) == conversation_id, ConversationMember.user_id == actor.id)
        )
    ).first()
    if found is None:
        raise NotFound(NOT_YOURS)
    return found


async def members_of(session: AsyncSession, conversation_id: str) -> list[ConversationMember]:
    query = select(ConversationMember).where(
        col(ConversationMember.conversation_id) == conversation_id
    )
    return list((await session.exec(query)).all())


async def live_accounts(session: AsyncSession, ids: Iterable[str]) -> dict[str, User]:
    """The accounts among ``ids`` that exist and are not disabled."""
    wanted = sorted({i for i in ids if is_id(i)})  # anything else names no account
    if not wanted:
        return {}
    rows = await session.exec(
        select(User).where(col(User.id).in_(wanted), col(User.disabled).is_(False))
    )
    return {user.id: user for user in rows}


async def blockers_of(session: AsyncSession, sender_id: str, user_ids: Iterable[str]) -> set[str]:
    """Who among ``user_ids`` has blocked ``sender_id``."""
    wanted = sorted(set(user_ids) - {sender_id})
    if not wanted:
        return set()
    rows = await session.exec(
        select(AccountBlock.blocker_id).where(
            col(AccountBlock.blocked_id) == sender_id, col(AccountBlock.blocker_id).in_(wanted)
        )
    )
    return set(rows)


def blocked_by(user_id: str) -> Any:
    """SQL: the accounts ``user_id`` has blocked."""
    return select(AccountBlock.blocked_id).where(col(AccountBlock.blocker_id) == user_id)


async def conversation_reads(
    session: AsyncSession, actor: Actor, pairs: Sequence[tuple[Conversation, ConversationMember]]
) -> list[ConversationRead]:
    """Reads of these conversations for the caller, with every member (one query)."""
    ids = [conversation.id for conversation, _ in pairs]
    members: dict[str, list[ConversationMemberRead]] = {i: [] for i in ids}
    if ids:
        rows = await session.exec(
            select(ConversationMember, User)
            .join(User, col(User.id) == col(ConversationMember.user_id))
            .where(col(ConversationMember.conversation_id).in_(ids))
            .order_by(col(ConversationMember.created_at), col(ConversationMember.user_id))
        )
        for member, user in rows:
            members[member.conversation_id].append(
                ConversationMemberRead(
                    user_id=user.id,
                    username=user.username,
                    display_name=user.display_name,
                    role=member.role,
                )
            )
    return [
        ConversationRead(
            id=conversation.id,
            kind=conversation.kind,
            name=conversation.name,
            members=members[conversation.id],
            created_by=conversation.created_by,
            created_at=conversation.created_at,
            updated_at=conversation.updated_at,
            last_seq=conversation.last_seq,
            read_seq=mine.read_seq,
            unread=mine.unread,
        )
        for conversation, mine in pairs
    ]


def message_read(message: Message) -> MessageRead:
    deleted = message.deleted_at is not None
    return MessageRead(
        id=message.id,
        conversation_id=message.conversation_id,
        seq=message.seq,
        sender_id=message.sender_id,
        text=None if deleted else message.text,
        attachments=[] if deleted else list(message.attachments),
        created_at=message.created_at,
        edited_at=message.edited_at,
        deleted=deleted,
    )


async def tell(
    session: AsyncSession,
    user_ids: Iterable[str],
    type: EventType,
    payload: dict[str, Any],
) -> None:
    """One event per account, in this transaction (call it last: see ``publish``)."""
    for user_id in sorted(set(user_ids)):
        await publish(session, user_id=user_id, type=type, payload=dict(payload))
