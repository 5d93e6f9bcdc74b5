"""Two registrations racing on an empty instance: exactly one becomes admin.

The decision is taken inside the registering transaction, serialized against every other
account creation (SQLite's write lock; a PostgreSQL advisory lock), so the second one to
commit sees the first. Each side is its own app (as two server processes would be).
"""

import asyncio
import sqlite3
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from mcore.migrate import upgrade
from mcore.settings import Settings
from tests.conftest import FAST_PASSWORDS, PASSWORD

PG = "postgresql://postgres@127.0.0.1:5432"


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


async def test_racing_first_registrations_on_sqlite(settings) -> None:
    for _ in range(3):  # a few rounds, each on an empty instance
        users = await race(settings)
        assert sorted(u["role"] for u in users) == ["admin", "user"]
        with sqlite3.connect(settings.data_dir / "mstack.db") as conn:
            conn.execute("DELETE FROM users")


@pytest.fixture
async def pg_settings(tmp_path) -> AsyncIterator[Settings]:
    """A fresh PostgreSQL database, migrated, dropped afterwards."""
    name = f"mstack_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = await asyncpg.connect(f"{PG}/postgres")
    except OSError as exc:
        pytest.fail(f"PostgreSQL is not reachable at {PG}: {exc}")
    await admin.execute(f'CREATE DATABASE "{name}"')
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}",
        **FAST_PASSWORDS,
    )
    try:
        upgrade(settings)
        yield settings
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


@pytest.mark.postgres
async def test_racing_first_registrations_on_postgresql(pg_settings) -> None:
    users = await race(pg_settings)
    assert sorted(u["role"] for u in users) == ["admin", "user"]
