"""Checks shared by the account ops: who is calling, and how sessions end."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Actor
from mcore.auth.live import Change
from mcore.auth.models import AuthSession, User
from mcore.auth.service import Auth
from mcore.clock import utcnow
from mcore.errors import Forbidden, NotFound, Unauthorized


def require_signed_in(actor: Actor) -> str:
    """The caller's user id; ``Unauthorized`` for a guest without credentials."""
    if actor.session_id is None and actor.key_id is None:
        raise Unauthorized("sign in first: this needs an account")
    return actor.id


def require_session(actor: Actor) -> str:
    """The caller's user id, when it signed in with a password (not with an API key)."""
    require_signed_in(actor)
    if actor.session_id is None:
        raise Forbidden("an API key cannot manage credentials; sign in with your password")
    return actor.id


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("only an admin may manage users and their sessions")


async def load_user(session: AsyncSession, user_id: str) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user with id {user_id!r}")
    return user


def end_session(session: AsyncSession, auth: Auth, row: AuthSession, reason: str) -> None:
    """Mark a session revoked; its tokens are refused once the transaction commits."""
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        row.revoked_reason = reason
        session.add(row)
    auth.announce_after_commit(session, Change("session", row.id))


async def end_sessions_of(
    session: AsyncSession, auth: Auth, user_id: str, reason: str, *, keep: str | None = None
) -> int:
    """Revoke every live session of a user (but ``keep``); how many were ended."""
    query = select(AuthSession).where(
        col(AuthSession.user_id) == user_id, col(AuthSession.revoked_at).is_(None)
    )
    rows = [row for row in (await session.exec(query)).all() if row.id != keep]
    for row in rows:
        end_session(session, auth, row, reason)
    await session.flush()
    auth.announce_after_commit(session, Change("user", user_id))
    return len(rows)
