"""API keys: named, scoped credentials for scripts and the CLI, shown once, kept hashed."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import SCOPES, Actor, Role
from mcore.auth.live import Change
from mcore.auth.models import ApiKey, ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from mcore.auth.ops.common import require_session
from mcore.auth.service import Auth
from mcore.auth.tokens import API_KEY_PREFIX, digest, new_secret
from mcore.clock import utcnow
from mcore.errors import Forbidden, Invalid, NotFound
from mcore.ids import new_id

SHOWN_PREFIX = len(API_KEY_PREFIX) + 6  # enough of the key to tell keys apart in a list


def key_read(key: ApiKey) -> ApiKeyRead:
    return ApiKeyRead(
        id=key.id,
        name=key.name,
        prefix=key.prefix,
        scopes=key.scopes.split(),
        created_at=key.created_at,
        expires_at=key.expires_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
    )


async def create_key(session: AsyncSession, *, actor: Actor, data: ApiKeyCreate) -> ApiKeyCreated:
    """A new key for the caller with the scopes asked for (``admin`` only for admins).

    Guests create nothing, and a key is something made: a guest reads with its session.
    """
    user_id = require_session(actor)
    if actor.role is Role.guest:
        raise Forbidden(
            "guests create nothing, API keys included: sign in with your password to read,"
            " or ask an admin for a user account"
        )
    unknown = sorted(set(data.scopes) - set(SCOPES))
    if unknown:
        raise Invalid(
            f"unknown scopes {', '.join(unknown)}; choose from {', '.join(SCOPES)}",
            field="scopes",
        )
    if "admin" in data.scopes and not actor.is_admin:
        raise Forbidden("only an admin may make a key with the 'admin' scope")
    name = data.name.strip()
    if not name:
        raise Invalid("give the key a name", field="name")
    secret = new_secret(API_KEY_PREFIX)
    now = utcnow()
    key = ApiKey(
        id=new_id(),
        user_id=user_id,
        name=name,
        prefix=secret[:SHOWN_PREFIX],
        key_hash=digest(secret),
        scopes=" ".join(sorted(set(data.scopes))),
        created_at=now,
        expires_at=now + timedelta(seconds=data.expires_in) if data.expires_in else None,
    )
    session.add(key)
    await session.flush()
    return ApiKeyCreated(**key_read(key).model_dump(), key=secret)


async def list_keys(session: AsyncSession, *, actor: Actor) -> list[ApiKeyRead]:
    """The caller's keys, newest first, revoked ones included."""
    user_id = require_session(actor)
    query = select(ApiKey).where(col(ApiKey.user_id) == user_id).order_by(col(ApiKey.id).desc())
    return [key_read(k) for k in (await session.exec(query)).all()]


async def revoke_key(session: AsyncSession, *, auth: Auth, actor: Actor, key_id: str) -> ApiKeyRead:
    """Revoke one of the caller's keys (an admin may revoke anyone's): refused at once."""
    user_id = require_session(actor)
    key = await session.get(ApiKey, key_id)
    if key is None or (key.user_id != user_id and not actor.is_admin):
        raise NotFound(f"no API key with id {key_id!r} of yours")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
        await session.flush()
    auth.announce_after_commit(session, Change("key", key.id))
    return key_read(key)
