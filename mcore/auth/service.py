"""One object per process that knows how to authenticate: keys, caches, limits, Redis.

The API keeps one in its application state; the shell commands make their own. Ops
receive it as ``auth=`` when they need to hash a password, issue a token or announce a
revocation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Actor, Role, session_scopes
from mcore.auth.browser import BrowserSeals
from mcore.auth.links import LinkSigner
from mcore.auth.live import Change, CredentialState, StateCache, after_commit
from mcore.auth.models import ApiKey, AuthSession, User
from mcore.auth.passwords import Passwords
from mcore.auth.ratelimit import FailureLimiter, MemoryLimiter, RedisLimiter
from mcore.auth.throttle import (
    MemoryThrottleStore,
    RedisThrottleStore,
    SignInThrottle,
    ThrottlePolicy,
    ThrottleStore,
)
from mcore.auth.tokens import API_KEY_PREFIX, AccessTokens, digest
from mcore.clock import clock
from mcore.db import Database
from mcore.settings import Settings

log = logging.getLogger("mstack.auth")
KEY_TOUCH_INTERVAL = 60.0  # an API key's last-used time is written at most once a minute
RECONNECT_DELAY = 1.0


class Auth:
    """Authentication services bound to one settings object and database."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.passwords = Passwords(settings)
        self.tokens = AccessTokens(settings)
        self.links = LinkSigner(settings)
        self.browser = BrowserSeals(settings)
        self.cache = StateCache(settings.auth_cache_ttl.total_seconds())
        self.redis: Any = None
        throttle_store: ThrottleStore = MemoryThrottleStore()
        registration_window = settings.registration_window.total_seconds()
        self.registrations: FailureLimiter = MemoryLimiter(registration_window)
        self.channel = settings.redis_prefix + "auth-changes"
        if settings.redis_url:
            from redis.asyncio import Redis

            self.redis = Redis.from_url(settings.redis_url)
            throttle_store = RedisThrottleStore(self.redis, settings.redis_prefix)
            self.registrations = RedisLimiter(
                self.redis, settings.redis_prefix, registration_window, "registrations"
            )
            self.cache.trusted = False  # until subscribed to other processes' changes
        self.throttle = SignInThrottle(throttle_store, ThrottlePolicy.of(settings))
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._key_touched: dict[str, float] = {}
        self._key_digests: dict[str, str] = {}  # key id -> digest, for is_live

    # --- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        """Get ready to serve: the dummy password hash made, and other processes' changes
        followed over Redis (when configured)."""
        await self.passwords.prepare()
        if self.redis is not None and self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="mstack-auth-listener")

    async def wait_subscribed(self) -> None:
        """Wait until this process hears other processes' changes (tests, start-up)."""
        await self._subscribed.wait()

    async def close(self) -> None:
        """Finish announcements in flight, stop listening, release threads and sockets."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        if self.redis is not None:
            await self.redis.aclose()
        self.passwords.close()

    async def _listen(self) -> None:
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                # Changes may have been missed while not subscribed: start afresh.
                self.cache.clear()
                self.cache.trusted = True
                self._subscribed.set()
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    data = message.get("data")
                    text = data.decode() if isinstance(data, bytes) else str(data)
                    change = Change.decode(text)
                    if change is not None:
                        self.cache.apply(change)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("lost the Redis subscription for auth changes: %s", exc)
            finally:
                self.cache.trusted = False
                self._subscribed.clear()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(RECONNECT_DELAY)

    # --- announcing changes -------------------------------------------------------------

    def announce(self, *changes: Change) -> None:
        """Apply changes to this process's cache now and tell the other processes."""
        for change in changes:
            self.cache.apply(change)
        if self.redis is None:
            return
        task = asyncio.get_running_loop().create_task(self._publish(changes))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _publish(self, changes: tuple[Change, ...]) -> None:
        try:
            for change in changes:
                await self.redis.publish(self.channel, change.encode())
        except Exception as exc:
            log.error("could not announce auth changes over Redis: %s", exc)

    def announce_after_commit(self, session: AsyncSession, *changes: Change) -> None:
        """Announce once the session's transaction has committed (never before: a request
        that read the old state in between would otherwise cache it again)."""
        after_commit(session, lambda: self.announce(*changes))

    async def flush(self) -> None:
        """Wait for announcements in flight (shell commands call it before exiting)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # --- authenticating -------------------------------------------------------------------

    async def authenticate(self, token: str) -> Actor | None:
        """The actor a bearer token (access token or API key) stands for; None if not valid.

        No database round trip when the credential's state is cached.
        """
        if token.startswith(API_KEY_PREFIX):
            return await self._authenticate_key(token)
        claims = self.tokens.verify(token)
        if claims is None:
            return None
        return await self._session_actor(claims.session_id, claims.user_id)

    async def authenticate_browser(self, cookie: str) -> Actor | None:
        """The actor a browser's session cookie stands for; None if not valid (not sealed
        here, or its session revoked or expired, or its user disabled)."""
        session_id = self.browser.unseal(cookie)
        return None if session_id is None else await self._session_actor(session_id)

    async def _session_actor(self, session_id: str, user_id: str | None = None) -> Actor | None:
        state = await self.session_state(session_id)
        if state is None or not state.valid(clock.time()):
            return None
        if user_id is not None and state.user_id != user_id:
            return None
        return Actor(
            id=state.user_id,
            role=state.role,
            scopes=session_scopes(state.role),
            session_id=state.id,
        )

    async def _authenticate_key(self, token: str) -> Actor | None:
        key_digest = digest(token)
        state = await self.key_state(key_digest)
        now = clock.time()
        if state is None or not state.valid(now):
            return None
        self._key_digests[state.id] = key_digest
        self._touch_key(state, now)
        assert state.scopes is not None
        return Actor(id=state.user_id, role=state.role, scopes=state.scopes, key_id=state.id)

    async def is_live(self, actor: Actor) -> bool:
        """False once the actor's session or key has been revoked or has expired, or its
        user disabled. Actors without a credential (system, anonymous) are always live."""
        now = clock.time()
        if actor.session_id is not None:
            state = await self.session_state(actor.session_id)
        elif actor.key_id is not None:
            key_digest = self._key_digests.get(actor.key_id)
            if key_digest is not None:
                state = await self.key_state(key_digest)
            else:
                state = await self._key_state_by_id(actor.key_id)
        else:
            return True
        return state is not None and state.valid(now)

    async def session_state(self, session_id: str) -> CredentialState | None:
        """A session's state, from the cache or else the database."""
        cache_key = "s:" + session_id
        state = self.cache.get(cache_key)
        if state is not None:
            return state
        generation = self.cache.generation
        query = (
            select(AuthSession, User)
            .join(User, col(User.id) == col(AuthSession.user_id))
            .where(col(AuthSession.id) == session_id)
        )
        async with self.db.session() as session:
            row = (await session.exec(query)).first()
            if row is None:
                return None
            found, user = row
            state = CredentialState(
                id=found.id,
                user_id=user.id,
                role=Role(user.role),
                live=found.revoked_at is None and not user.disabled,
                expires=found.expires_at.timestamp(),
            )
        self.cache.put(cache_key, state, generation)
        return state

    async def key_state(self, key_digest: str) -> CredentialState | None:
        """An API key's state by the digest of the key, from the cache or the database."""
        cache_key = "k:" + key_digest
        state = self.cache.get(cache_key)
        if state is not None:
            return state
        generation = self.cache.generation
        state = await self._fetch_key(col(ApiKey.key_hash) == key_digest)
        if state is not None:
            self.cache.put(cache_key, state, generation)
        return state

    async def _key_state_by_id(self, key_id: str) -> CredentialState | None:
        return await self._fetch_key(col(ApiKey.id) == key_id)

    async def _fetch_key(self, where: Any) -> CredentialState | None:
        query = select(ApiKey, User).join(User, col(User.id) == col(ApiKey.user_id)).where(where)
        async with self.db.session() as session:
            row = (await session.exec(query)).first()
            if row is None:
                return None
            key, user = row
            self._key_digests[key.id] = key.key_hash
            return CredentialState(
                id=key.id,
                user_id=user.id,
                role=Role(user.role),
                live=key.revoked_at is None and not user.disabled,
                expires=key.expires_at.timestamp() if key.expires_at is not None else None,
                scopes=frozenset(key.scopes.split()),
                last_used=key.last_used_at.timestamp() if key.last_used_at is not None else None,
            )

    def _touch_key(self, state: CredentialState, now: float) -> None:
        last = self._key_touched.get(state.id, state.last_used or 0.0)
        if now - last < KEY_TOUCH_INTERVAL:
            return
        self._key_touched[state.id] = now
        task = asyncio.get_running_loop().create_task(self._write_key_use(state.id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _write_key_use(self, key_id: str) -> None:
        try:
            async with self.db.session(write=True) as session:
                key = await session.get(ApiKey, key_id)
                if key is not None:
                    key.last_used_at = clock.now()
                    session.add(key)
        except Exception as exc:  # a missed last-used time is not worth failing anything
            log.warning("could not record the use of API key %s: %s", key_id, exc)
