"""Counting events per key in a fixed window: registrations per client address, to slow
account spam. (Sign-in guessing is slowed by ``mcore.auth.throttle``.)

Each key counts events in a window that starts at its first one; once a key reaches its
limit, attempts are refused (429 with ``Retry-After``) until the window ends. In memory by
default; in Redis when ``redis_url`` is set, so every process shares counts.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any, Protocol

from mcore.clock import clock

log = logging.getLogger("mstack.auth")
MAX_MEMORY_KEYS = 100_000


class FailureLimiter(Protocol):
    async def retry_after(self, limits: Sequence[tuple[str, int]]) -> int:
        """Seconds until an attempt is allowed for all ``(key, limit)`` pairs; 0 if now."""

    async def failed(self, keys: Sequence[str]) -> None:
        """Count one failure against each key."""

    async def clear(self, key: str) -> None:
        """Forget the failures of a key (after a success)."""


class MemoryLimiter:
    """Failure counts in this process."""

    def __init__(self, window: float) -> None:
        self.window = window
        self._counts: dict[str, tuple[int, float]] = {}

    async def retry_after(self, limits: Sequence[tuple[str, int]]) -> int:
        now = clock.time()
        wait = 0.0
        for key, limit in limits:
            count, resets = self._counts.get(key, (0, 0.0))
            if resets > now and count >= limit:
                wait = max(wait, resets - now)
        return math.ceil(wait)

    async def failed(self, keys: Sequence[str]) -> None:
        now = clock.time()
        if len(self._counts) > MAX_MEMORY_KEYS:
            self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
        for key in keys:
            count, resets = self._counts.get(key, (0, 0.0))
            if resets <= now:
                count, resets = 0, now + self.window
            self._counts[key] = (count + 1, resets)

    async def clear(self, key: str) -> None:
        self._counts.pop(key, None)


class RedisLimiter:
    """Failure counts in Redis, shared by every process of the instance.

    If Redis cannot be reached the counts fall back to this process's memory, so sign-in
    keeps working (and keeps being limited) while Redis is down.
    """

    def __init__(
        self, redis: Any, prefix: str, window: float, kind: str = "login-failures"
    ) -> None:
        self.redis = redis
        self.prefix = f"{prefix}{kind}:"
        self.kind = kind
        self.window = window
        self.fallback = MemoryLimiter(window)

    async def retry_after(self, limits: Sequence[tuple[str, int]]) -> int:
        try:
            pipe = self.redis.pipeline(transaction=False)
            for key, _ in limits:
                pipe.get(self.prefix + key)
                pipe.pttl(self.prefix + key)
            replies = await pipe.execute()
        except Exception as exc:  # any Redis failure: degrade to this process
            log.warning("redis unavailable for %s limits (%s); using memory", self.kind, exc)
            return await self.fallback.retry_after(limits)
        wait = 0
        for i, (_, limit) in enumerate(limits):
            count, ttl = replies[2 * i], replies[2 * i + 1]
            if count is not None and int(count) >= limit and ttl > 0:
                wait = max(wait, math.ceil(ttl / 1000))
        return wait

    async def failed(self, keys: Sequence[str]) -> None:
        try:
            pipe = self.redis.pipeline(transaction=True)
            for key in keys:
                pipe.incr(self.prefix + key)
                pipe.expire(self.prefix + key, math.ceil(self.window), nx=True)
            await pipe.execute()
        except Exception as exc:
            log.warning("redis unavailable for %s limits (%s); using memory", self.kind, exc)
            await self.fallback.failed(keys)

    async def clear(self, key: str) -> None:
        try:
            await self.redis.delete(self.prefix + key)
        except Exception as exc:
            log.warning("redis unavailable for %s limits (%s)", self.kind, exc)
        await self.fallback.clear(key)
