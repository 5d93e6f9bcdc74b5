"""Several server processes: revocations, role changes and sign-in limits reach all of them
through Redis (the machine's real Redis). Each "process" is its own app on one database."""

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import timedelta

import httpx
import pytest
from sqlmodel import col, select

from mcore.events import Event
from mcore.settings import Settings
from tests.conftest import PASSWORD, create_account, wait_for

REDIS_URL = "redis://127.0.0.1:6379/0"


async def start(stack: AsyncExitStack, settings: Settings) -> tuple[object, httpx.AsyncClient]:
    from api.app import create_app

    app = create_app(settings)
    await stack.enter_async_context(app.lifespan())
    http = await stack.enter_async_context(
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mstack.test")
    )
    return app, http


@pytest.fixture
def scaled(settings: Settings) -> Settings:
    # A long cache lifetime: only an announcement can explain a refusal in another process.
    return settings.model_copy(
        update={
            "redis_url": REDIS_URL,
            "redis_prefix": f"mstack-test-{uuid.uuid4().hex}:",
            "auth_cache_ttl": timedelta(hours=1),
        }
    )


@pytest.fixture
async def two(scaled: Settings) -> AsyncIterator[tuple]:
    async with AsyncExitStack() as stack:
        a, http_a = await start(stack, scaled)
        b, http_b = await start(stack, scaled)
        for app in (a, b):
            try:
                await app.state.auth.wait_subscribed()
            except Exception as exc:
                pytest.fail(f"Redis at {REDIS_URL} is not usable: {exc}")
        yield a, http_a, b, http_b


async def sign_in(http: httpx.AsyncClient, username: str) -> str:
    reply = await http.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert reply.status_code == 200, reply.text
    return reply.json()["access_token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_logout_in_one_process_is_refused_in_the_other(two) -> None:
    a, http_a, b, http_b = two
    await create_account(a, role="user", username="ann")
    token = await sign_in(http_a, "ann")
    assert (await http_b.get("/api/v1/auth/me", headers=bearer(token))).status_code == 200
    assert b.state.auth.cache.get("s:" + b.state.auth.tokens.verify(token).session_id)
    assert (await http_a.post("/api/v1/auth/logout", headers=bearer(token))).status_code == 204

    async def refused_in_b() -> bool:
        reply = await http_b.get("/api/v1/auth/me", headers=bearer(token))
        return reply.status_code == 401

    await wait_for(refused_in_b, timeout=2)


async def test_role_change_reaches_the_other_process(two) -> None:
    a, http_a, _b, http_b = two
    await create_account(a, role="admin", username="root")
    user = await create_account(a, role="user", username="ann")
    admin_token = await sign_in(http_a, "root")
    token = await sign_in(http_b, "ann")
    assert (await http_b.get("/api/v1/admin/users", headers=bearer(token))).status_code == 403
    reply = await http_a.put(
        f"/api/v1/admin/users/{user.id}/role", json={"role": "admin"}, headers=bearer(admin_token)
    )
    assert reply.status_code == 200

    async def admin_in_b() -> bool:
        reply = await http_b.get("/api/v1/admin/users", headers=bearer(token))
        return reply.status_code == 200

    await wait_for(admin_in_b, timeout=2)


def from_address(app: object, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://mstack.test")


async def test_sign_in_limits_are_shared(two, frozen_clock) -> None:
    """The throttle's counts live in Redis: failures in one process slow the next attempt
    in the other; another address signs in; the owner is told once, not once per process."""
    frozen_clock.frozen = frozen_clock.time()
    a, _http_a, b, _http_b = two
    user = await create_account(a, role="user", username="ann")
    async with AsyncExitStack() as stack:
        guess_a = await stack.enter_async_context(from_address(a, "198.51.100.9"))
        guess_b = await stack.enter_async_context(from_address(b, "198.51.100.9"))
        for http in (guess_a, guess_b, guess_a, guess_b, guess_a):
            reply = await http.post(
                "/api/v1/auth/login", json={"username": "ann", "password": "a wrong password"}
            )
            assert reply.status_code == 401
        blocked = await guess_b.post(
            "/api/v1/auth/login", json={"username": "ann", "password": PASSWORD}
        )
        assert blocked.status_code == 429
        assert blocked.headers["retry-after"] == "1"
        owner = await stack.enter_async_context(from_address(b, "203.0.113.1"))
        signed_in = await owner.post(
            "/api/v1/auth/login", json={"username": "ann", "password": PASSWORD}
        )
        assert signed_in.status_code == 200
        for app, address in ((a, "198.51.100.10"), (b, "198.51.100.11")) * 3:
            http = await stack.enter_async_context(from_address(app, address))
            await http.post(
                "/api/v1/auth/login", json={"username": "ann", "password": "a wrong password"}
            )
    async with a.state.db.session() as session:
        events = (await session.exec(select(Event).where(col(Event.user_id) == user.id))).all()
    assert [e.type for e in events] == ["account.sign_in_failures"]  # the 10th, told once


async def test_without_redis_another_process_waits_for_its_cache(settings) -> None:
    # The control case: no Redis, so process B trusts its cache for auth_cache_ttl.
    slow = settings.model_copy(update={"auth_cache_ttl": timedelta(hours=1)})
    async with AsyncExitStack() as stack:
        a, http_a = await start(stack, slow)
        _, http_b = await start(stack, slow)
        await create_account(a, role="user", username="ann")
        token = await sign_in(http_a, "ann")
        assert (await http_b.get("/api/v1/auth/me", headers=bearer(token))).status_code == 200
        await http_a.post("/api/v1/auth/logout", headers=bearer(token))
        assert (await http_a.get("/api/v1/auth/me", headers=bearer(token))).status_code == 401
        assert (await http_b.get("/api/v1/auth/me", headers=bearer(token))).status_code == 200


async def test_while_redis_is_unreachable_the_cache_is_not_trusted(settings) -> None:
    dead = settings.model_copy(
        update={"redis_url": "redis://127.0.0.1:1/0", "auth_cache_ttl": timedelta(hours=1)}
    )
    async with AsyncExitStack() as stack:
        a, http_a = await start(stack, settings)
        b, http_b = await start(stack, dead)
        assert b.state.auth.cache.trusted is False
        await create_account(a, role="user", username="ann")
        token = await sign_in(http_a, "ann")
        assert (await http_b.get("/api/v1/auth/me", headers=bearer(token))).status_code == 200
        await http_a.post("/api/v1/auth/logout", headers=bearer(token))
        # B cannot hear announcements, so it asks the database every time.
        assert (await http_b.get("/api/v1/auth/me", headers=bearer(token))).status_code == 401
