"""A fresh PostgreSQL database per test, migrated, on the machine's server (127.0.0.1)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcore.migrate import upgrade
from mcore.settings import Settings

PG_ADMIN = os.environ.get("MSTACK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _admin(sql: str) -> None:
    import asyncio

    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(PG_ADMIN)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


@pytest.fixture
def pg_settings(tmp_path: Path) -> Iterator[Settings]:
    """Settings on a new PostgreSQL database, dropped afterwards."""
    try:
        name = f"mstack_test_{secrets.token_hex(6)}"
        _admin(f'CREATE DATABASE "{name}"')
    except OSError as exc:
        if os.environ.get("MSTACK_REQUIRE_TOOLS") == "1":
            pytest.fail(f"PostgreSQL is required but not reachable: {exc}")
        pytest.skip(f"PostgreSQL is not reachable: {exc}")
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    settings = Settings(
        data_dir=tmp_path / "data", database_url=f"{base}/{name}", allowed_content_types=["*/*"]
    )
    try:
        upgrade(settings)
        yield settings
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
