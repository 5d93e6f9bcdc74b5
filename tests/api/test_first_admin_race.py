"""Two registrations racing on an empty instance: exactly one becomes admin.

The decision is taken inside the registering transaction, serialized against every other
account creation (SQLite's write lock; a PostgreSQL advisory lock), so the second one to
commit sees the first. Each side is its own app (as two server processes would be).
"""

import asyncio

import httpx
from sqlalchemy import delete

from mcore.auth.models import User
from mcore.db import Database
from mcore.settings import Settings
from tests.conftest import PASSWORD


async def race(settings: Settings, n: int = 2) -> list[dict]:
    from api.app import create_app

    apps = [create_app(settings) for _ in range(n)]
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mstack.test")
        for app in apps
    ]
    async with apps[0].lifespan(), apps[1].lifespan():
        replies = await asyncio.gather(
            *(
                http.post(
                    "/api/v1/auth/register",
                    json={"email": f"u{i}@x.org", "username": f"user{i}", "password": PASSWORD},
                )
                for i, http in enumerate(clients)
            )
        )
        for http in clients:
            await http.aclose()
    assert [r.status_code for r in replies] == [201] * n, [r.text for r in replies]
    return [r.json() for r in replies]


async def test_racing_first_registrations(settings: Settings) -> None:
    """On SQLite (write lock) and PostgreSQL (advisory lock): fails if the lock is removed."""
    db = Database(settings)
    try:
        for _ in range(3):  # a few rounds, each on an empty instance
            users = await race(settings)
            assert sorted(u["role"] for u in users) == ["admin", "user"]
            async with db.session(write=True) as session:
                await session.exec(delete(User))
    finally:
        await db.dispose()
