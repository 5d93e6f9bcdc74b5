"""Conversations and their members: private ones between two accounts (one per pair), and
named groups whose admins add and remove members. Members hear each change on their
events sockets."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Actor, require_create
from mcore.clock import utcnow
from mcore.db import serialize_on
from mcore.errors import Conflict, Forbidden, Invalid, NotFound
from mcore.events import EventType
from mcore.ids import is_id, new_id
from mcore.pagination import check_limit, decode_cursor, encode_cursor, unknown_cursor
from mcore.settings import Settings
from msocial.messaging._common import (
    WRITE_SCOPE,
    blockers_of,
    conversation_reads,
    live_accounts,
    members_of,
    membership,
    require_reader,
    tell,
)
from msocial.messaging.models import NAME_MAX, Conversation, ConversationMember, Kind, MemberRole
from msocial.messaging.schemas import (
    ConversationCreate,
    ConversationMemberAdd,
    ConversationPage,
    ConversationRead,
)


def _name(name: str) -> str:
    cleaned = " ".join(name.split())
    if any(unicodedata.category(c) == "Cc" for c in cleaned):
        raise Invalid("a conversation's name cannot hold control characters", field="name")
    if not cleaned:
        raise Invalid("a group conversation needs a name", field="name")
    if len(cleaned) > NAME_MAX:
        raise Invalid(f"a conversation's name is at most {NAME_MAX} characters", field="name")
    return cleaned


def _summary(conversation: Conversation, member_ids: list[str]) -> dict[str, object]:
    return {
        "conversation_id": conversation.id,
        "kind": str(conversation.kind),
        "name": conversation.name,
        "members": sorted(member_ids),
    }


async def _read(
    session: AsyncSession, actor: Actor, conversation: Conversation, mine: ConversationMember
) -> ConversationRead:
    return (await conversation_reads(session, actor, [(conversation, mine)]))[0]


async def create_conversation(
    session: AsyncSession, *, actor: Actor, settings: Settings, data: ConversationCreate
) -> tuple[ConversationRead, bool]:
    """A new conversation with ``data.members`` (and the caller), and whether it is new:
    a private one that already exists between the two is given back as it is."""
    require_create(actor, WRITE_SCOPE)
    others = list(dict.fromkeys(m for m in data.members if m != actor.id))
    if not others:
        raise Invalid("name at least one other account to talk with", field="members")
    limit = settings.messaging.max_group_members
    if len(others) + 1 > limit:
        raise Invalid(
            f"a conversation has at most {limit} members (messaging.max_group_members)",
            field="members",
        )
    accounts = await live_accounts(session, others)
    missing = [m for m in others if m not in accounts]
    if missing:
        raise Invalid(f"no account with id {missing[0]}", field="members")
    now = utcnow()
    if data.name is None and len(others) == 1:
        other = others[0]
        pair = " ".join(sorted([actor.id, other]))
        await serialize_on(session, f"conversation-pair:{pair}")
        existing = (
            await session.exec(select(Conversation).where(col(Conversation.pair_key) == pair))
        ).first()
        if existing is not None:
            mine = await session.get(ConversationMember, (existing.id, actor.id))
            assert mine is not None
            return await _read(session, actor, existing, mine), False
        if await blockers_of(session, actor.id, [other]):
            raise Forbidden("this account does not take messages from you")
        conversation = Conversation(
            id=new_id(),
            kind=Kind.private,
            pair_key=pair,
            created_by=actor.id,
            created_at=now,
            updated_at=now,
        )
        roles = {actor.id: MemberRole.member, other: MemberRole.member}
    else:
        conversation = Conversation(
            id=new_id(),
            kind=Kind.group,
            name=_name(data.name or ""),
            created_by=actor.id,
            created_at=now,
            updated_at=now,
        )
        roles = {actor.id: MemberRole.admin} | dict.fromkeys(others, MemberRole.member)
    session.add(conversation)
    rows = {
        user_id: ConversationMember(
            conversation_id=conversation.id,
            user_id=user_id,
            role=role,
            added_by=actor.id,
            created_at=now,
        )
        for user_id, role in roles.items()
    }
    session.add_all(rows.values())
    await session.flush()
    read = await _read(session, actor, conversation, rows[actor.id])
    await tell(session, roles, EventType.conversation_created, _summary(conversation, list(roles)))
    return read, True


async def get_conversation(
    session: AsyncSession, *, actor: Actor, conversation_id: str
) -> ConversationRead:
    conversation, mine = await membership(session, actor, conversation_id)
    return await _read(session, actor, conversation, mine)


async def list_conversations(
    session: AsyncSession, *, actor: Actor, cursor: str | None, limit: int
) -> ConversationPage:
    """The caller's conversations, the most recently active first, with unread counts."""
    require_reader(actor)
    check_limit(limit)
    query = (
        select(Conversation, ConversationMember)
        .join(ConversationMember, col(ConversationMember.conversation_id) == col(Conversation.id))
        .where(ConversationMember.user_id == actor.id)
    )
    after = decode_cursor(cursor)
    if after is not None:
        try:
            at, last = datetime.fromisoformat(str(after["at"])), str(after["id"])
        except (KeyError, ValueError):
            raise unknown_cursor() from None
        if at.tzinfo is None or not is_id(last):
            raise unknown_cursor()
        query = query.where(
            (col(Conversation.updated_at) < at)
            | ((col(Conversation.updated_at) == at) & (col(Conversation.id) < last))
        )
    query = query.order_by(col(Conversation.updated_at).desc(), col(Conversation.id).desc())
    pairs = list((await session.exec(query.limit(limit + 1))).all())
    following = None
    if len(pairs) > limit:
        del pairs[limit:]
        conversation = pairs[-1][0]
        following = encode_cursor(
            {"at": conversation.updated_at.isoformat(), "id": conversation.id}
        )
    return ConversationPage(items=await conversation_reads(session, actor, pairs), next=following)


async def add_member(
    session: AsyncSession,
    *,
    actor: Actor,
    settings: Settings,
    conversation_id: str,
    data: ConversationMemberAdd,
) -> ConversationRead:
    """An admin of a group adds an account to it. The newcomer reads the history, and
    counts as having read it."""
    conversation, mine = await membership(session, actor, conversation_id, scope=WRITE_SCOPE)
    if conversation.kind == Kind.private:
        raise Invalid("a private conversation has exactly its two members; start a group")
    if mine.role != MemberRole.admin:
        raise Forbidden("only an admin of this conversation adds members")
    if not await live_accounts(session, [data.user_id]):
        raise Invalid(f"no account with id {data.user_id}", field="user_id")
    members = await members_of(session, conversation_id)
    if any(m.user_id == data.user_id for m in members):
        raise Conflict("that account is a member already", field="user_id")
    limit = settings.messaging.max_group_members
    if len(members) + 1 > limit:
        raise Invalid(
            f"a conversation has at most {limit} members (messaging.max_group_members)",
            field="user_id",
        )
    session.add(
        ConversationMember(
            conversation_id=conversation_id,
            user_id=data.user_id,
            role=data.role,
            read_seq=conversation.last_seq,
            added_by=actor.id,
            created_at=utcnow(),
        )
    )
    await session.flush()
    read = await _read(session, actor, conversation, mine)
    everyone = [m.user_id for m in members] + [data.user_id]
    await tell(
        session,
        everyone,
        EventType.member_added,
        _summary(conversation, everyone) | {"user_id": data.user_id, "by": actor.id},
    )
    return read


async def remove_member(
    session: AsyncSession, *, actor: Actor, conversation_id: str, user_id: str
) -> None:
    """An admin removes a member, or a member leaves. From then on they see nothing of it."""
    conversation, mine = await membership(session, actor, conversation_id, scope=WRITE_SCOPE)
    if conversation.kind == Kind.private:
        raise Invalid("a private conversation has exactly its two members")
    if user_id != actor.id and mine.role != MemberRole.admin:
        raise Forbidden("only an admin of this conversation removes others")
    members = await members_of(session, conversation_id)
    if not any(m.user_id == user_id for m in members):
        raise NotFound(f"{user_id} is not a member of this conversation")
    await session.exec(
        delete(ConversationMember).where(
            col(ConversationMember.conversation_id) == conversation_id,
            col(ConversationMember.user_id) == user_id,
        )
    )
    everyone = [m.user_id for m in members]
    remaining = [m for m in everyone if m != user_id]
    await tell(
        session,
        everyone,
        EventType.member_removed,
        _summary(conversation, remaining) | {"user_id": user_id, "by": actor.id},
    )
