"""Runtime settings (seed 000): stored in the database, synced into Redis with a flag and
`_temp` copies, read with casting, forced, and rolled back after a failure part-way."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from click.testing import CliRunner

from mcore.db import Database
from mcore.errors import Conflict, Invalid, NotFound
from mcore.runtime import RUNTIME_KEYS, RuntimeSetting, RuntimeSettings, cast
from mcore.settings import Settings
from mstack_client.cli import main
from tests.apphelpers import fast, running_app

REDIS = "redis://127.0.0.1:6379/11"


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
def with_redis(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"redis_url": REDIS, "redis_prefix": f"mstack-rt-{secrets.token_hex(4)}:"}
    )


@pytest.fixture
async def redis(with_redis: Settings) -> AsyncIterator[Any]:
    client = aioredis.Redis.from_url(REDIS, decode_responses=True)
    yield client
    keys = [k async for k in client.scan_iter(f"{with_redis.redis_prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.fixture
async def two(with_redis: Settings) -> AsyncIterator[tuple[RuntimeSettings, RuntimeSettings]]:
    """Two processes' views (each its own database engine and Redis client)."""
    dbs = [Database(with_redis), Database(with_redis)]
    views = (RuntimeSettings(with_redis, dbs[0]), RuntimeSettings(with_redis, dbs[1]))
    yield views
    for view, db in zip(views, dbs, strict=True):
        await view.close()
        await db.dispose()


def test_cast_from_strings() -> None:
    assert cast("42") == 42
    assert cast("-3") == -3
    assert cast("1.5") == 1.5
    assert cast("2e3") == 2000.0
    assert cast("true") is True
    assert cast("False") is False
    assert cast('["image/*", "video/*"]') == ["image/*", "video/*"]
    assert cast('{"a": 1}') == {"a": 1}
    assert cast('"text"') == "text"
    assert cast("plain words") == "plain words"
    assert cast("[not json") == "[not json"


async def test_get_missing_unknown_and_bad_values(
    two: tuple[RuntimeSettings, RuntimeSettings], with_redis: Settings
) -> None:
    a, _ = two
    assert await a.get("max_upload_size") == with_redis.max_upload_size  # nothing stored
    with pytest.raises(NotFound, match="can change while running"):
        await a.get("token_keys")
    with pytest.raises(Invalid):
        await a.set("max_upload_size", "lots", by=None)
    with pytest.raises(Invalid, match="gt 0"):
        await a.set("max_upload_size", 0, by=None)
    with pytest.raises(Invalid):
        await a.set("allowed_content_types", "5", by=None)


async def test_set_syncs_into_redis_for_every_process(
    two: tuple[RuntimeSettings, RuntimeSettings], redis: Any, with_redis: Settings
) -> None:
    a, b = two
    await a.set("max_upload_size", "1048576", by="admin-1")
    prefix = with_redis.redis_prefix
    assert await redis.get(f"{prefix}env_max_upload_size") == "1048576"
    assert await redis.get(f"{prefix}env_sync_in_progress") is None
    assert [k async for k in redis.scan_iter(f"{prefix}*_temp")] == []
    assert await b.get("max_upload_size") == 1048576
    assert (await b.current()).max_upload_size == 1048576
    await a.set("media.transform_max_dimension", 2000, by=None)
    b.forget()
    assert (await b.current()).media.transform_max_dimension == 2000
    with pytest.raises(Conflict, match="no earlier value"):
        await a.rollback("allowed_content_types", by=None)
    await a.set("max_upload_size", 2048, by=None)
    await a.rollback("max_upload_size", by=None)
    assert await b.get("max_upload_size") == 1048576
    await a.unset("max_upload_size")
    assert await b.get("max_upload_size") == with_redis.max_upload_size
    assert await redis.get(f"{prefix}env_max_upload_size") is None


async def test_sync_copies_what_the_database_holds_and_can_be_forced(
    two: tuple[RuntimeSettings, RuntimeSettings], redis: Any, with_redis: Settings
) -> None:
    a, b = two
    from mcore.clock import utcnow

    async with a.db.session(write=True) as session:  # a value stored by an earlier release
        session.add(RuntimeSetting(key="max_upload_size", value="777", updated_at=utcnow()))
    assert await b.get("max_upload_size") == with_redis.max_upload_size  # not synced yet
    assert await a.sync() == len(RUNTIME_KEYS)
    assert await b.get("max_upload_size") == 777
    flag = f"{with_redis.redis_prefix}env_sync_in_progress"
    await redis.set(flag, "1")  # another sync is running
    with pytest.raises(Conflict, match="already running"):
        await a.sync()
    assert await a.sync(force=True) == len(RUNTIME_KEYS)
    assert await redis.get(flag) is None


async def test_a_failure_part_way_rolls_every_key_back(
    two: tuple[RuntimeSettings, RuntimeSettings], redis: Any, with_redis: Settings
) -> None:
    a, b = two
    await a.set("max_upload_size", 1000, by=None)
    await a.set("allowed_content_types", ["image/*"], by=None)
    prefix = with_redis.redis_prefix
    before = {k: await redis.get(f"{prefix}env_{k}") for k in RUNTIME_KEYS}
    from mcore.clock import utcnow

    async with a.db.session(write=True) as session:  # new values waiting to be synced
        for key, value in (("max_upload_size", "2000"), ("allowed_content_types", '["video/*"]')):
            row = await session.get(RuntimeSetting, key)
            assert row is not None
            row.value, row.updated_at = value, utcnow()
            session.add(row)
    written: list[str] = []

    def progress(key: str) -> None:
        written.append(key)
        if len(written) == 2:
            raise ConnectionError("redis went away")  # a failure after two keys

    with pytest.raises(ConnectionError):
        await a.sync(on_key=progress)
    after = {k: await redis.get(f"{prefix}env_{k}") for k in RUNTIME_KEYS}
    assert after == before  # every key back from its _temp copy
    assert [k async for k in redis.scan_iter(f"{prefix}*_temp")] == []
    assert await redis.get(f"{prefix}env_sync_in_progress") is None
    assert await b.get("max_upload_size") == 1000
    assert await b.get("allowed_content_types") == ["image/*"]
    assert written == ["max_upload_size", "allowed_content_types"]  # both had been written


async def test_readers_see_the_old_values_while_a_sync_runs(
    two: tuple[RuntimeSettings, RuntimeSettings], redis: Any, with_redis: Settings
) -> None:
    a, b = two
    await a.set("max_upload_size", 1000, by=None)
    prefix = with_redis.redis_prefix
    # a sync half-way: the flag up, the old value in _temp, the new one already written
    await redis.set(f"{prefix}env_sync_in_progress", "1")
    await redis.set(f"{prefix}env_max_upload_size_temp", "1000")
    await redis.set(f"{prefix}env_max_upload_size", "5000")
    assert await b.get("max_upload_size") == 1000
    await redis.delete(f"{prefix}env_sync_in_progress", f"{prefix}env_max_upload_size_temp")
    assert await b.get("max_upload_size") == 5000


async def test_without_redis_every_process_reads_the_database(settings: Settings) -> None:
    db1, db2 = Database(settings), Database(settings)
    a, b = RuntimeSettings(settings, db1), RuntimeSettings(settings, db2)
    try:
        await a.set("max_upload_size", 4096, by=None)
        assert await a.sync() == 0
        assert await b.get("max_upload_size") == 4096
    finally:
        await db1.dispose()
        await db2.dispose()


async def test_admin_routes_change_the_upload_limit_while_running(settings: Settings) -> None:
    async with running_app(fast(settings), worker=False) as app:
        r = await app.http.put("/api/v1/admin/settings/max_upload_size", json={"value": 10})
        assert r.status_code == 200, r.text
        assert r.json()["value"] == 10
        assert r.json()["default"] == settings.max_upload_size
        big = await app.http.post("/api/v1/files", params={"filename": "a"}, content=b"x" * 20)
        assert big.status_code == 413
        bad = await app.http.put("/api/v1/admin/settings/max_upload_size", json={"value": "x"})
        assert bad.status_code == 422
        unknown = await app.http.get("/api/v1/admin/settings/token_keys")
        assert unknown.status_code == 404
        listed = await app.http.get("/api/v1/admin/settings")
        assert [s["key"] for s in listed.json()] == list(RUNTIME_KEYS)
        r = await app.http.put("/api/v1/admin/settings/max_upload_size", json={"value": 100})
        back = await app.http.post("/api/v1/admin/settings/max_upload_size/rollback")
        assert back.json()["value"] == 10
        gone = await app.http.delete("/api/v1/admin/settings/max_upload_size")
        assert gone.json()["value"] == settings.max_upload_size
        ok = await app.http.post("/api/v1/files", params={"filename": "a"}, content=b"x" * 20)
        assert ok.status_code == 201
        synced = await app.http.post("/api/v1/admin/settings/sync", json={})
        assert synced.json() == {"synced": 0}  # no Redis here
    async with running_app(fast(settings), worker=False, role="user") as app:
        r = await app.http.get("/api/v1/admin/settings")
        assert r.status_code == 403


def test_settings_commands(settings: Settings) -> None:
    env = {
        "MSTACK_DATA_DIR": str(settings.data_dir),
        "MSTACK_DATABASE_URL": settings.db_url,
        "MSTACK_CONFIG": "",
    }
    runner = CliRunner()
    r = runner.invoke(main, ["settings", "set", "allowed_content_types", '["image/*"]'], env=env)
    assert r.exit_code == 0, r.output
    r = runner.invoke(main, ["settings", "get", "allowed_content_types"], env=env)
    assert r.output.strip() == '["image/*"]'
    r = runner.invoke(main, ["settings", "list"], env=env)
    assert 'allowed_content_types = ["image/*"]  (default' in r.output
    r = runner.invoke(main, ["settings", "set", "max_upload_size", "nope"], env=env)
    assert r.exit_code == 1
    assert "max_upload_size" in r.output
    assert "Traceback" not in r.output
    r = runner.invoke(main, ["settings", "sync"], env=env)
    assert "nothing to sync" in r.output
