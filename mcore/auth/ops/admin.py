"""What only admins do: list and read accounts, set roles, disable and enable, end sessions."""

from __future__ import annotations

import unicodedata

from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Actor, Role
from mcore.auth.live import Change
from mcore.auth.models import SessionRead, User, UserPage, UserRead
from mcore.auth.ops.common import end_sessions_of, load_user, require_admin
from mcore.auth.ops.sessions import list_sessions
from mcore.auth.service import Auth
from mcore.clock import utcnow
from mcore.db import serialize_on
from mcore.errors import Conflict, NotFound
from mcore.pagination import check_limit, page_by_id


async def list_users(
    session: AsyncSession,
    *,
    actor: Actor,
    cursor: str | None = None,
    limit: int = 50,
    role: Role | None = None,
) -> UserPage:
    """Every account, newest first."""
    require_admin(actor)
    check_limit(limit)
    query = select(User)
    if role is not None:
        query = query.where(col(User.role) == role)
    rows, next_cursor = await page_by_id(session, query, col(User.id), cursor=cursor, limit=limit)
    return UserPage(
        items=[UserRead.model_validate(u, from_attributes=True) for u in rows], next=next_cursor
    )


async def get_user(session: AsyncSession, *, actor: Actor, user_id: str) -> User:
    require_admin(actor)
    return await load_user(session, user_id)


async def find_user(session: AsyncSession, *, actor: Actor, name: str) -> User:
    """An account by its id, email address or username (case does not matter)."""
    require_admin(actor)
    text = name.strip()
    folded = unicodedata.normalize("NFKC", text).casefold()
    query = select(User).where(
        or_(col(User.id) == text, col(User.email_key) == folded, col(User.username_key) == folded)
    )
    user = (await session.exec(query.limit(1))).first()
    if user is None:
        raise NotFound(f"no user with the id, email or username {text!r}")
    return user


async def _other_admins(session: AsyncSession, user_id: str) -> int:
    query = select(func.count()).where(
        col(User.role) == Role.admin, col(User.disabled).is_(False), col(User.id) != user_id
    )
    return int((await session.exec(query)).one())


async def _keep_an_admin(session: AsyncSession, user: User) -> None:
    """Refuse a change that would leave the instance with no enabled admin."""
    await serialize_on(session, "mstack:users")
    if user.role == Role.admin and not user.disabled and not await _other_admins(session, user.id):
        raise Conflict("this is the last enabled admin; make another admin first")


async def set_role(
    session: AsyncSession, *, auth: Auth, actor: Actor, user_id: str, role: Role
) -> User:
    """Give a user another role; it applies from their next request."""
    require_admin(actor)
    user = await load_user(session, user_id)
    if user.role != role:
        if role != Role.admin:
            await _keep_an_admin(session, user)
        user.role = role
        user.updated_at = utcnow()
        session.add(user)
        await session.flush()
        auth.announce_after_commit(session, Change("user", user.id))
    return user


async def set_disabled(
    session: AsyncSession, *, auth: Auth, actor: Actor, user_id: str, disabled: bool
) -> User:
    """Disable a user (their sessions end and their keys stop working) or enable them."""
    require_admin(actor)
    user = await load_user(session, user_id)
    if disabled and not user.disabled:
        await _keep_an_admin(session, user)
    if user.disabled != disabled:
        user.disabled = disabled
        user.updated_at = utcnow()
        session.add(user)
        await session.flush()
    if disabled:
        await end_sessions_of(session, auth, user.id, "disabled")
    auth.announce_after_commit(session, Change("user", user.id))
    return user


async def revoke_user_sessions(
    session: AsyncSession, *, auth: Auth, actor: Actor, user_id: str
) -> int:
    """End every session of a user; how many were live."""
    require_admin(actor)
    user = await load_user(session, user_id)
    return await end_sessions_of(session, auth, user.id, "revoked-by-admin")


async def user_sessions(session: AsyncSession, *, actor: Actor, user_id: str) -> list[SessionRead]:
    require_admin(actor)
    user = await load_user(session, user_id)
    return await list_sessions(session, actor=actor, user_id=user.id)
