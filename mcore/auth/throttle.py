"""Sign-in throttling as OWASP's Authentication and Credential Stuffing cheat sheets advise:
slow guessing down without giving anyone a way to lock an account's owner out.

- exponential backoff on each (account, client address) pair;
- a limit on the different accounts one address may fail on (no password spraying);
- a count per account, so its owner can be told (``account.sign_in_failures``).

Failed password changes are throttled the same way. Refusals become 429 with
``Retry-After``. Counts are kept in this process, or in Redis when ``redis_url`` is set so
every process shares them (atomic Lua scripts, on the app's clock).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, Protocol

from mcore.clock import clock
from mcore.settings import Settings

log = logging.getLogger("mstack.auth")
MAX_MEMORY_KEYS = 100_000


def backoff(failures: int, *, free: int, base: float, cap: float) -> float:
    """Seconds an (account, address) pair waits after its ``failures``-th failure: none for
    the first ``free - 1``, then ``base``, doubled with each further failure, at most
    ``cap``."""
    if failures < free:
        return 0.0
    return min(cap, base * 2.0 ** min(failures - free, 64))


@dataclass(frozen=True)
class ThrottlePolicy:
    """The numbers of the sign-in throttle (from the settings)."""

    window: float  # how long failures are remembered
    free: int  # failures of a pair before each next attempt waits
    base: float  # the first wait, doubled per further failure
    cap: float  # the longest wait
    accounts_per_address: int  # accounts one address may fail on within the window

    @classmethod
    def of(cls, settings: Settings) -> ThrottlePolicy:
        return cls(
            window=settings.login_failure_window.total_seconds(),
            free=settings.login_free_failures,
            base=settings.login_backoff_base.total_seconds(),
            cap=settings.login_backoff_max.total_seconds(),
            accounts_per_address=settings.login_max_accounts_per_address,
        )

    def delay(self, failures: int) -> float:
        return backoff(failures, free=self.free, base=self.base, cap=self.cap)

    def forgotten(self, failures: int, last: float, now: float) -> bool:
        """A pair's failures are forgotten ``window`` after its last wait ended."""
        return now >= last + self.delay(failures) + self.window


@dataclass(frozen=True)
class Refusal:
    """Why an attempt must wait, and for how many seconds."""

    wait: int
    detail: str


class ThrottleStore(Protocol):
    """Where the throttle keeps its counts (this process, or Redis for all of them)."""

    async def read(
        self, pair: str, address: str, now: float, window: float
    ) -> tuple[int, float, dict[str, float]]:
        """The pair's failures and last failure time, and the accounts the address failed
        on within the window (account -> last failure time)."""

    async def pair_failed(self, pair: str, now: float, policy: ThrottlePolicy) -> int:
        """Count a failure of the pair (starting afresh once forgotten); its count now."""

    async def address_failed(self, address: str, account: str, now: float, window: float) -> None:
        """Remember that ``address`` failed on ``account`` at ``now``."""

    async def account_failed(self, account: str, now: float, window: float) -> int:
        """Count a failure of the account from any address; its count in this window."""

    async def claim(self, key: str, now: float, interval: float) -> bool:
        """True at most once per ``interval`` per key (the first caller wins)."""

    async def forget(self, pair: str, address: str, account: str) -> None:
        """After a success: the pair's failures, and the account in the address's list."""


class MemoryThrottleStore:
    """Throttle counts in this process (bounded: stale entries go when it grows)."""

    def __init__(self) -> None:
        self._pairs: dict[str, tuple[int, float]] = {}
        self._addresses: dict[str, dict[str, float]] = {}
        self._accounts: dict[str, tuple[int, float]] = {}
        self._claims: dict[str, float] = {}

    def _prune(self, now: float, window: float) -> None:
        if len(self._pairs) + len(self._addresses) + len(self._accounts) <= MAX_MEMORY_KEYS:
            return
        # Generous: a pair stays while its longest wait could still run.
        self._pairs = {k: v for k, v in self._pairs.items() if v[1] > now - 2 * 86400}
        self._addresses = {
            k: v for k, v in self._addresses.items() if max(v.values(), default=0) > now - window
        }
        self._accounts = {k: v for k, v in self._accounts.items() if v[1] > now - window}
        self._claims = {k: v for k, v in self._claims.items() if v > now}

    async def read(
        self, pair: str, address: str, now: float, window: float
    ) -> tuple[int, float, dict[str, float]]:
        count, last = self._pairs.get(pair, (0, 0.0))
        accounts = {a: t for a, t in self._addresses.get(address, {}).items() if t > now - window}
        return count, last, accounts

    async def pair_failed(self, pair: str, now: float, policy: ThrottlePolicy) -> int:
        self._prune(now, policy.window)
        count, last = self._pairs.get(pair, (0, 0.0))
        if count and policy.forgotten(count, last, now):
            count = 0
        self._pairs[pair] = (count + 1, now)
        return count + 1

    async def address_failed(self, address: str, account: str, now: float, window: float) -> None:
        accounts = self._addresses.setdefault(address, {})
        for name in [a for a, t in accounts.items() if t <= now - window]:
            del accounts[name]
        accounts[account] = now

    async def account_failed(self, account: str, now: float, window: float) -> int:
        count, start = self._accounts.get(account, (0, 0.0))
        if now >= start + window:
            count, start = 0, now
        self._accounts[account] = (count + 1, start)
        return count + 1

    async def claim(self, key: str, now: float, interval: float) -> bool:
        if self._claims.get(key, 0.0) > now:
            return False
        self._claims[key] = now + interval
        return True

    async def forget(self, pair: str, address: str, account: str) -> None:
        self._pairs.pop(pair, None)
        self._addresses.get(address, {}).pop(account, None)


# Atomic steps in Redis. Times are the caller's clock (``mcore.clock``), stored in the
# keys, so every process (and a test's frozen clock) agrees; key expiry only tidies up.
_PAIR_FAILED = """
local count = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
local last = tonumber(redis.call('HGET', KEYS[1], 'last') or '0')
local now, free, base, cap, window =
    tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local function delay(k)
    if k < free then return 0 end
    return math.min(cap, base * 2 ^ math.min(k - free, 64))
end
if count > 0 and now >= last + delay(count) + window then count = 0 end
count = count + 1
redis.call('HSET', KEYS[1], 'n', count, 'last', ARGV[1])
redis.call('PEXPIRE', KEYS[1], math.ceil((delay(count) + window) * 1000))
return count
"""
_ACCOUNT_FAILED = """
local count = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
local start = tonumber(redis.call('HGET', KEYS[1], 'start') or '0')
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
if now >= start + window then count = 0; start = now end
count = count + 1
redis.call('HSET', KEYS[1], 'n', count, 'start', start)
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
return count
"""
_CLAIM = """
local claimed = tonumber(redis.call('GET', KEYS[1]) or '0')
if claimed > tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
"""


class RedisThrottleStore:
    """Throttle counts in Redis, shared by every process of the instance; this process's
    memory while Redis cannot be reached (sign-in keeps working, and keeps being slowed)."""

    def __init__(self, redis: Any, prefix: str) -> None:
        self.redis = redis
        self.prefix = f"{prefix}sign-in:"
        self.fallback = MemoryThrottleStore()
        self._pair_failed = redis.register_script(_PAIR_FAILED)
        self._account_failed = redis.register_script(_ACCOUNT_FAILED)
        self._claim = redis.register_script(_CLAIM)

    def _down(self, exc: Exception) -> None:
        log.warning("redis unavailable for sign-in limits (%s); using memory", exc)

    async def read(
        self, pair: str, address: str, now: float, window: float
    ) -> tuple[int, float, dict[str, float]]:
        try:
            pipe = self.redis.pipeline(transaction=False)
            pipe.hmget(self.prefix + "pair:" + pair, "n", "last")
            pipe.zrangebyscore(
                self.prefix + "address:" + address, f"({now - window}", "+inf", withscores=True
            )
            (count, last), members = await pipe.execute()
        except Exception as exc:
            self._down(exc)
            return await self.fallback.read(pair, address, now, window)
        accounts = {(m.decode() if isinstance(m, bytes) else str(m)): float(t) for m, t in members}
        return int(count or 0), float(last or 0.0), accounts

    async def pair_failed(self, pair: str, now: float, policy: ThrottlePolicy) -> int:
        try:
            args = [now, policy.free, policy.base, policy.cap, policy.window]
            return int(await self._pair_failed(keys=[self.prefix + "pair:" + pair], args=args))
        except Exception as exc:
            self._down(exc)
            return await self.fallback.pair_failed(pair, now, policy)

    async def address_failed(self, address: str, account: str, now: float, window: float) -> None:
        key = self.prefix + "address:" + address
        try:
            pipe = self.redis.pipeline(transaction=True)
            pipe.zadd(key, {account: now})
            pipe.zremrangebyscore(key, "-inf", now - window)
            pipe.pexpire(key, math.ceil(window * 1000))
            await pipe.execute()
        except Exception as exc:
            self._down(exc)
            await self.fallback.address_failed(address, account, now, window)

    async def account_failed(self, account: str, now: float, window: float) -> int:
        try:
            key = self.prefix + "account:" + account
            return int(await self._account_failed(keys=[key], args=[now, window]))
        except Exception as exc:
            self._down(exc)
            return await self.fallback.account_failed(account, now, window)

    async def claim(self, key: str, now: float, interval: float) -> bool:
        try:
            args = [now, now + interval, math.ceil(interval * 1000)]
            return bool(await self._claim(keys=[self.prefix + "claim:" + key], args=args))
        except Exception as exc:
            self._down(exc)
            return await self.fallback.claim(key, now, interval)

    async def forget(self, pair: str, address: str, account: str) -> None:
        try:
            pipe = self.redis.pipeline(transaction=False)
            pipe.delete(self.prefix + "pair:" + pair)
            pipe.zrem(self.prefix + "address:" + address, account)
            await pipe.execute()
        except Exception as exc:
            self._down(exc)
        await self.fallback.forget(pair, address, account)


class SignInThrottle:
    """Slows password guessing the way OWASP's cheat sheets advise, without letting anyone
    lock an account's owner out.

    - Per account *and* address: after ``free`` failures, each further attempt from that
      address at that account waits, twice as long after each failure (exponential
      backoff, at most ``cap``). An address that has not failed on an account is never
      slowed on it: the owner signs in from home while someone guesses elsewhere.
    - Per address, across accounts: an address that failed on ``accounts_per_address``
      different accounts within the window may try no further account until some of them
      age out (one address cannot spray passwords over many accounts).
    - Per account, from anywhere: the failures are counted so the owner can be told.

    Attempts refused here are not verified and not counted: waiting is all they cost.
    """

    def __init__(self, store: ThrottleStore, policy: ThrottlePolicy) -> None:
        self.store = store
        self.policy = policy

    @staticmethod
    def _pair(account: str, address: str) -> str:
        return f"{account}|{address}"

    async def refusal(self, account: str, address: str) -> Refusal | None:
        """Why an attempt at ``account`` from ``address`` must wait now, or None."""
        now = clock.time()
        policy = self.policy
        count, last, accounts = await self.store.read(
            self._pair(account, address), address, now, policy.window
        )
        if count and not policy.forgotten(count, last, now):
            until = last + policy.delay(count)
            if until > now:
                wait = math.ceil(until - now)
                return Refusal(
                    wait,
                    "too many failed sign-ins to this account from your address; try again"
                    f" in {wait} seconds",
                )
        if account not in accounts and len(accounts) >= policy.accounts_per_address:
            times = sorted(accounts.values())
            # the attempt may go once enough of the accounts failed on have aged out
            oldest = times[len(times) - policy.accounts_per_address]
            wait = max(1, math.ceil(oldest + policy.window - now))
            return Refusal(
                wait,
                "too many different accounts failed to sign in from your address; try again"
                f" in {wait} seconds",
            )
        return None

    async def failed(self, account: str, address: str) -> int:
        """Count a failed attempt; how many the account has had (from anywhere) in the
        window."""
        now = clock.time()
        policy = self.policy
        await self.store.pair_failed(self._pair(account, address), now, policy)
        await self.store.address_failed(address, account, now, policy.window)
        return await self.store.account_failed(account, now, policy.window)

    async def succeeded(self, account: str, address: str) -> None:
        """The right password: forget this pair's failures and the address's on it."""
        await self.store.forget(self._pair(account, address), address, account)

    async def claim_alert(self, account: str, interval: float) -> bool:
        """True when the owner of ``account`` may be told now (once per ``interval``)."""
        return await self.store.claim("alert:" + account, clock.time(), interval)
