"""The sign-in throttle on both of its stores (this process's memory, the machine's Redis)."""

import uuid
from collections.abc import AsyncIterator

import pytest

from mcore.auth.throttle import (
    MemoryThrottleStore,
    RedisThrottleStore,
    SignInThrottle,
    ThrottlePolicy,
    backoff,
)

REDIS_URL = "redis://127.0.0.1:6379/0"

POLICY = ThrottlePolicy(window=900, free=3, base=2, cap=60, accounts_per_address=2)


@pytest.fixture(params=["memory", "redis"])
async def throttle(request, caplog) -> AsyncIterator[SignInThrottle]:
    if request.param == "memory":
        yield SignInThrottle(MemoryThrottleStore(), POLICY)
        return
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    prefix = f"mstack-test-{uuid.uuid4().hex}:"
    yield SignInThrottle(RedisThrottleStore(client, prefix), POLICY)
    # The scripts ran in Redis: a fallback to memory would hide a broken script.
    assert "redis unavailable" not in caplog.text
    keys = [key async for key in client.scan_iter(prefix + "*")]
    assert keys, "nothing reached Redis"
    await client.delete(*keys)
    await client.aclose()


def test_backoff_doubles_from_the_free_failures_up_to_the_cap() -> None:
    waits = [backoff(n, free=3, base=2, cap=60) for n in range(1, 10)]
    assert waits == [0, 0, 2, 4, 8, 16, 32, 60, 60]
    assert backoff(10_000, free=3, base=2, cap=60) == 60  # no overflow however many


async def test_throttle_waits_per_account_and_address(throttle, frozen_clock) -> None:
    frozen_clock.frozen = 1_000_000.0
    for _ in range(2):
        await throttle.failed("user:ann", "1.2.3.4")
        assert await throttle.refusal("user:ann", "1.2.3.4") is None
    assert await throttle.failed("user:ann", "1.2.3.4") == 3  # the account's count
    refusal = await throttle.refusal("user:ann", "1.2.3.4")
    assert refusal is not None
    assert refusal.wait == 2
    assert "to this account from your address" in refusal.detail
    assert await throttle.refusal("user:ann", "5.6.7.8") is None  # another address: never
    assert await throttle.refusal("user:bob", "1.2.3.4") is None  # another account
    frozen_clock.frozen += 2
    assert await throttle.refusal("user:ann", "1.2.3.4") is None
    await throttle.failed("user:ann", "1.2.3.4")
    assert (await throttle.refusal("user:ann", "1.2.3.4")).wait == 4
    await throttle.succeeded("user:ann", "1.2.3.4")
    assert await throttle.refusal("user:ann", "1.2.3.4") is None


async def test_throttle_forgets_a_window_after_the_last_wait(throttle, frozen_clock) -> None:
    frozen_clock.frozen = 1_000_000.0
    for _ in range(4):
        await throttle.failed("user:ann", "1.2.3.4")
    assert (await throttle.refusal("user:ann", "1.2.3.4")).wait == 4
    frozen_clock.frozen += 4 + 899
    await throttle.failed("user:ann", "1.2.3.4")  # not yet forgotten: the 5th failure
    assert (await throttle.refusal("user:ann", "1.2.3.4")).wait == 8
    frozen_clock.frozen += 8 + 900
    await throttle.failed("user:ann", "1.2.3.4")  # forgotten: the first again
    assert await throttle.refusal("user:ann", "1.2.3.4") is None


async def test_throttle_limits_the_accounts_one_address_fails_on(throttle, frozen_clock) -> None:
    frozen_clock.frozen = 1_000_000.0
    await throttle.failed("user:ann", "1.2.3.4")
    frozen_clock.frozen += 100
    await throttle.failed("user:bob", "1.2.3.4")
    refusal = await throttle.refusal("user:cat", "1.2.3.4")
    assert refusal is not None
    assert refusal.wait == 800  # when ann's failure ages out
    assert "different accounts" in refusal.detail
    assert await throttle.refusal("user:ann", "1.2.3.4") is None  # one it already failed on
    assert await throttle.refusal("user:cat", "5.6.7.8") is None
    await throttle.succeeded("user:bob", "1.2.3.4")  # bob got in: no sign of spraying
    assert await throttle.refusal("user:cat", "1.2.3.4") is None


async def test_throttle_alert_is_claimed_once_per_interval(throttle, frozen_clock) -> None:
    frozen_clock.frozen = 1_000_000.0
    assert await throttle.claim_alert("user:ann", 3600)
    assert not await throttle.claim_alert("user:ann", 3600)
    assert await throttle.claim_alert("user:bob", 3600)
    frozen_clock.frozen += 3600
    assert await throttle.claim_alert("user:ann", 3600)


async def test_throttle_counts_account_failures_in_a_window(throttle, frozen_clock) -> None:
    frozen_clock.frozen = 1_000_000.0
    counts = [await throttle.failed("user:ann", f"10.0.0.{i}") for i in range(3)]
    assert counts == [1, 2, 3]
    frozen_clock.frozen += 900
    assert await throttle.failed("user:ann", "10.0.0.9") == 1


async def test_redis_throttle_falls_back_to_memory_when_redis_is_down(frozen_clock) -> None:
    from redis.asyncio import Redis

    frozen_clock.frozen = 1_000_000.0
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    throttle = SignInThrottle(RedisThrottleStore(dead, "x:"), POLICY)
    for _ in range(3):
        await throttle.failed("user:ann", "1.2.3.4")
    assert (await throttle.refusal("user:ann", "1.2.3.4")).wait == 2
    assert await throttle.claim_alert("user:ann", 60)
    await dead.aclose()
