"""Sessions: signing in, refreshing, signing out, listing and revoking one's sign-ins."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import delete, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Actor, Role, session_scopes
from mcore.auth.models import AuthSession, Login, RefreshToken, SessionRead, TokenPair, User
from mcore.auth.ops.accounts import normalize_email, normalize_username
from mcore.auth.ops.common import end_session, require_session
from mcore.auth.service import Auth
from mcore.auth.tokens import REFRESH_PREFIX, digest, new_secret
from mcore.clock import utcnow
from mcore.errors import DomainError, Invalid, NotFound, TooManyRequests, Unauthorized
from mcore.events import EventType, publish
from mcore.ids import new_id

log = logging.getLogger("mstack.auth")

WRONG_CREDENTIALS = "the email, username or password is wrong"
DISABLED = "this account is disabled; ask an admin to enable it"
BAD_REFRESH = "the refresh token is not valid; sign in again"


def _login_key(data: Login) -> tuple[str, str]:
    """``(column, key)`` the sign-in names the account by."""
    if (data.email is None) == (data.username is None):
        raise Invalid("sign in with either an email or a username", field="email")
    if data.email is not None:
        try:
            return "email", normalize_email(data.email)[1]
        except Invalid:
            return "email", data.email.strip().casefold()
    assert data.username is not None
    try:
        return "username", normalize_username(data.username)[1]
    except Invalid:
        return "username", data.username.strip().casefold()


async def login(
    session: AsyncSession,
    *,
    auth: Auth,
    data: Login,
    address: str | None = None,
    user_agent: str | None = None,
) -> TokenPair:
    """Check the password and start a session: its access and refresh tokens."""
    _, pair = await _sign_in(session, auth=auth, data=data, address=address, user_agent=user_agent)
    return pair


async def browser_login(
    session: AsyncSession,
    *,
    auth: Auth,
    data: Login,
    address: str | None = None,
    user_agent: str | None = None,
) -> str:
    """Check the password and start a session for a web browser: the session cookie's
    value (``mcore.auth.browser``). The session is an ordinary one, listed and revoked
    like any other."""
    row, _ = await _sign_in(session, auth=auth, data=data, address=address, user_agent=user_agent)
    return auth.browser.seal(row.id)


async def _sign_in(
    session: AsyncSession,
    *,
    auth: Auth,
    data: Login,
    address: str | None,
    user_agent: str | None,
) -> tuple[AuthSession, TokenPair]:
    """Check the password and start a session.

    A wrong password and an unknown account get the same answer after the same work (an
    argon2 verification either way). Failures are throttled per account and address, and
    per address across accounts (``SignInThrottle``): a throttled attempt is refused with
    ``TooManyRequests`` before any verification. An address that has not failed on an
    account is never refused it. Once an account has failed ``login_alert_failures`` times
    within the window, its owner gets an ``account.sign_in_failures`` event (at most once
    per ``login_alert_interval``).
    """
    column, key = _login_key(data)
    by = User.email_key if column == "email" else User.username_key
    async with auth.db.session() as reader:  # no write lock is held while hashing
        found = (
            await reader.exec(select(User.id, User.password_hash).where(col(by) == key))
        ).first()
    user_id, stored_hash = found if found is not None else (None, None)
    # One account whichever name it is given by; unknown names are counted the same way.
    account = f"user:{user_id}" if user_id is not None else f"{column}:{key}"
    where = address or "-"
    refusal = await auth.throttle.refusal(account, where)
    if refusal is not None:
        raise TooManyRequests(refusal.detail, retry_after=refusal.wait)
    ok, new_hash = await auth.passwords.verify(data.password.get_secret_value(), stored_hash)
    if not ok or user_id is None:
        failures = await auth.throttle.failed(account, where)
        if user_id is not None and failures >= auth.settings.login_alert_failures:
            await _tell_owner(auth, user_id, account, failures, address)
        raise Unauthorized(WRONG_CREDENTIALS)
    user = await session.get(User, user_id)
    if user is None or user.disabled:
        raise Unauthorized(DISABLED)
    if new_hash is not None and user.password_hash == stored_hash:
        user.password_hash = new_hash  # the hash parameters changed: upgrade it now
    user.last_login_at = utcnow()
    session.add(user)
    row, pair = await _start_session(session, auth, user, address=address, user_agent=user_agent)
    await auth.throttle.succeeded(account, where)
    return row, pair


async def _tell_owner(
    auth: Auth, user_id: str, account: str, failures: int, address: str | None
) -> None:
    """An ``account.sign_in_failures`` event for the account's owner, at most once per
    ``login_alert_interval``; in its own transaction, since the failed sign-in's rolls
    back. A failure to write it never turns the refusal into an error."""
    settings = auth.settings
    if not await auth.throttle.claim_alert(account, settings.login_alert_interval.total_seconds()):
        return
    payload = {
        "failures": failures,
        "window_seconds": int(settings.login_failure_window.total_seconds()),
        "address": address,
    }
    log.warning("%d failed sign-ins to account %s; telling its owner", failures, user_id)
    try:
        async with auth.db.session(write=True) as writer:
            await publish(writer, user_id=user_id, type=EventType.sign_in_failures, payload=payload)
    except Exception as exc:
        log.error("could not tell account %s of failed sign-ins: %s", user_id, exc)


async def _start_session(
    session: AsyncSession,
    auth: Auth,
    user: User,
    *,
    address: str | None,
    user_agent: str | None,
) -> tuple[AuthSession, TokenPair]:
    now = utcnow()
    row = AuthSession(
        id=new_id(),
        user_id=user.id,
        created_at=now,
        expires_at=now + auth.settings.session_ttl,
        user_agent=user_agent[:255] if user_agent else None,
        address=address[:64] if address else None,
    )
    session.add(row)
    await session.flush()
    return row, await _issue(session, auth, user, row)


async def _issue(
    session: AsyncSession, auth: Auth, user: User, row: AuthSession, refresh: str | None = None
) -> TokenPair:
    """A new access token and ``refresh`` (a fresh random one at sign-in), stored as its
    digest."""
    refresh = refresh or new_secret(REFRESH_PREFIX)
    session.add(RefreshToken(token_hash=digest(refresh), session_id=row.id, created_at=utcnow()))
    await session.flush()
    return _pair(auth, user, row, refresh)


def _pair(auth: Auth, user: User, row: AuthSession, refresh: str) -> TokenPair:
    role = Role(user.role)
    access = auth.tokens.issue(
        user_id=user.id, session_id=row.id, role=role, scopes=session_scopes(role)
    )
    return TokenPair(access_token=access, expires_in=auth.tokens.ttl, refresh_token=refresh)


async def refresh(auth: Auth, *, token: str) -> TokenPair:
    """A new access token and a new refresh token for the old one, which is then spent.

    Presenting a spent refresh token means two parties hold it: the session is revoked.
    That revocation must outlive the refusal, so this op commits its own transaction.
    Within ``refresh_grace_period`` of its spending, though, a spent token is answered
    with the refresh token it rotated into (and a fresh access token): a client that
    retried, or two requests racing, stay signed in. The successor is derived from the
    spent token under the server's key (``AccessTokens.successors``), never stored.
    """
    async with auth.db.session(write=True) as session:
        outcome = await _rotate(session, auth, token)
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


async def _rotate(session: AsyncSession, auth: Auth, token: str) -> TokenPair | DomainError:
    # FOR UPDATE (PostgreSQL): a concurrent refresh with the same token waits here, then
    # sees it spent. SQLite's write transactions are serial already.
    spent = (
        await session.get(RefreshToken, digest(token), with_for_update=True)
        if token.startswith(REFRESH_PREFIX)
        else None
    )
    if spent is None:
        return Unauthorized(BAD_REFRESH)
    row = await session.get(AuthSession, spent.session_id)
    user = await session.get(User, row.user_id) if row is not None else None
    if row is None or user is None or row.revoked_at is not None:
        return Unauthorized("this session has ended; sign in again")
    now = utcnow()
    if spent.used_at is not None:
        grace = auth.settings.refresh_grace_period
        if grace and now - spent.used_at <= grace:
            again = await _successor(session, auth, row, token)
            if again is not None and row.expires_at > now and not user.disabled:
                return _pair(auth, user, row, again)
        log.warning("a spent refresh token was presented for session %s: revoking it", row.id)
        end_session(session, auth, row, "refresh-reuse")
        return Unauthorized(
            "this refresh token was already used, so the session has been ended to protect"
            " the account; sign in again"
        )
    if row.expires_at <= now:
        return Unauthorized("this session has expired; sign in again")
    if user.disabled:
        return Unauthorized(DISABLED)
    spent.used_at = now
    row.refreshed_at = now
    session.add(spent)
    session.add(row)
    return await _issue(session, auth, user, row, auth.tokens.successors(token)[0])


MAX_CHAIN = 8  # rotations followed within one grace period (a client refreshing in a loop)


async def _successor(session: AsyncSession, auth: Auth, row: AuthSession, token: str) -> str | None:
    """The newest unspent refresh token that ``token`` (spent) rotated into in this
    session, following the chain if its successor was spent too; None if none is found
    (the key that derived it is gone, or the chain is longer than any retry explains)."""
    for _ in range(MAX_CHAIN):
        found = None
        for candidate in auth.tokens.successors(token):
            child = await session.get(RefreshToken, digest(candidate))
            if child is not None and child.session_id == row.id:
                found = child
                break
        if found is None:
            return None
        if found.used_at is None:
            return candidate
        token = candidate
    return None


async def logout(session: AsyncSession, *, auth: Auth, actor: Actor) -> None:
    """End the caller's session: its access and refresh tokens stop working at once."""
    require_session(actor)
    row = await session.get(AuthSession, actor.session_id)
    if row is not None:
        end_session(session, auth, row, "logout")
        await session.flush()


async def list_sessions(
    session: AsyncSession, *, actor: Actor, user_id: str | None = None
) -> list[SessionRead]:
    """Live sessions of the caller (or, for an admin's op, of ``user_id``), newest first."""
    owner = user_id or require_session(actor)
    query = (
        select(AuthSession)
        .where(
            col(AuthSession.user_id) == owner,
            col(AuthSession.revoked_at).is_(None),
            col(AuthSession.expires_at) > utcnow(),
        )
        .order_by(col(AuthSession.id).desc())
    )
    rows = (await session.exec(query)).all()
    return [
        SessionRead.model_validate(row, from_attributes=True).model_copy(
            update={"current": row.id == actor.session_id}
        )
        for row in rows
    ]


async def revoke_session(
    session: AsyncSession, *, auth: Auth, actor: Actor, session_id: str
) -> None:
    """End one of the caller's own sessions."""
    user_id = require_session(actor)
    row = await session.get(AuthSession, session_id)
    if row is None or row.user_id != user_id:
        raise NotFound(f"no session with id {session_id!r} of yours")
    end_session(session, auth, row, "revoked")
    await session.flush()


async def prune_sessions(session: AsyncSession, *, before: datetime) -> int:
    """Delete sessions (and their refresh tokens) that expired or were revoked before
    ``before``: nothing can use them any more. How many sessions went."""
    ended = or_(col(AuthSession.expires_at) < before, col(AuthSession.revoked_at) < before)
    ids = list((await session.exec(select(AuthSession.id).where(ended))).all())
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        await session.exec(delete(RefreshToken).where(col(RefreshToken.session_id).in_(chunk)))
        await session.exec(delete(AuthSession).where(col(AuthSession.id).in_(chunk)))
    return len(ids)
