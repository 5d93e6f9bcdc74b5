import uuid

import pytest

from mcore.auth.ratelimit import MemoryLimiter, RedisLimiter

REDIS_URL = "redis://127.0.0.1:6379/0"


async def test_memory_limiter_window(frozen_clock) -> None:
    frozen_clock.frozen = 1_000_000.0
    limiter = MemoryLimiter(window=60)
    limits = [("account:ann", 3), ("address:1.2.3.4", 5)]
    for _ in range(2):
        await limiter.failed([k for k, _ in limits])
        assert await limiter.retry_after(limits) == 0
    await limiter.failed([k for k, _ in limits])
    assert await limiter.retry_after(limits) == 60  # the account reached its limit
    assert await limiter.retry_after([("account:bob", 3), ("address:1.2.3.4", 5)]) == 0
    frozen_clock.frozen += 45.5
    assert await limiter.retry_after(limits) == 15  # rounded up
    frozen_clock.frozen += 14.5
    assert await limiter.retry_after(limits) == 0  # the window has passed
    await limiter.failed(["account:ann"])
    assert await limiter.retry_after(limits) == 0  # and counting starts again


async def test_memory_limiter_clear(frozen_clock) -> None:
    frozen_clock.frozen = 1_000_000.0
    limiter = MemoryLimiter(window=60)
    for _ in range(3):
        await limiter.failed(["account:ann"])
    assert await limiter.retry_after([("account:ann", 3)]) == 60
    await limiter.clear("account:ann")
    assert await limiter.retry_after([("account:ann", 3)]) == 0


@pytest.fixture
async def redis_client():
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:  # the machine's Redis is part of the test environment
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {exc}")
    yield client
    await client.aclose()


async def test_redis_limiter_is_shared_between_processes(redis_client) -> None:
    prefix = f"mstack-test-{uuid.uuid4().hex}:"
    one = RedisLimiter(redis_client, prefix, window=60)
    other = RedisLimiter(redis_client, prefix, window=60)  # as in a second process
    limits = [("account:ann", 3)]
    await one.failed(["account:ann"])
    await other.failed(["account:ann"])
    assert await one.retry_after(limits) == 0
    await one.failed(["account:ann"])
    wait = await other.retry_after(limits)
    assert 55 <= wait <= 60
    assert 55 <= await redis_client.ttl(prefix + "login-failures:account:ann") <= 60
    await other.clear("account:ann")
    assert await one.retry_after(limits) == 0
    await redis_client.delete(prefix + "login-failures:account:ann")


async def test_redis_limiters_of_different_kinds_count_apart(redis_client) -> None:
    prefix = f"mstack-test-{uuid.uuid4().hex}:"
    logins = RedisLimiter(redis_client, prefix, window=60)
    registrations = RedisLimiter(redis_client, prefix, window=3600, kind="registrations")
    await registrations.failed(["address:203.0.113.7"])
    assert await registrations.retry_after([("address:203.0.113.7", 1)]) > 60
    assert await logins.retry_after([("address:203.0.113.7", 1)]) == 0
    await redis_client.delete(prefix + "registrations:address:203.0.113.7")


async def test_redis_limiter_falls_back_to_memory_when_redis_is_down() -> None:
    from redis.asyncio import Redis

    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    limiter = RedisLimiter(dead, "x:", window=60)
    for _ in range(3):
        await limiter.failed(["account:ann"])
    assert await limiter.retry_after([("account:ann", 3)]) > 0
    await dead.aclose()
