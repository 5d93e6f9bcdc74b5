"""The record engine on the machine's PostgreSQL: the migration, ON CONFLICT block writes,
advisory locks with compare-and-swap under real concurrency, case-insensitive search,
cascading purge. Each test gets a database of its own, dropped afterwards."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from api.app import create_app
from mart._generated import ops
from mcore.cid import record_cid
from mcore.db import Database
from mcore.migrate import upgrade
from mcore.records.models import Block, Record, RecordTerm
from mcore.settings import Settings
from tests.conftest import REQUIRE_TOOLS
from tests.recordkit import ADMIN, count, png, rows, write

pytestmark = pytest.mark.postgres
SERVER = "postgresql+asyncpg://127.0.0.1:5432"


@pytest.fixture
async def pg_settings(tmp_path: Path) -> AsyncIterator[Settings]:
    name = f"mstack_records_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(f"{SERVER}/test", isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OSError as exc:
        await admin.dispose()
        if REQUIRE_TOOLS:
            pytest.fail(f"PostgreSQL is required (MSTACK_REQUIRE_TOOLS=1): {exc}")
        pytest.skip(f"PostgreSQL is not reachable: {exc}")
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=f"{SERVER}/{name}",
        allowed_content_types=["*/*"],
    )
    try:
        upgrade(settings)
        yield settings
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture
async def pg(pg_settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Database]]:
    app = create_app(pg_settings)
    db = Database(pg_settings)
    async with (
        app.lifespan(),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://mstack.test"
        ) as http,
    ):
        yield http, db
    await db.dispose()


async def test_versioning_on_postgresql(pg: tuple[httpx.AsyncClient, Database]) -> None:
    client, db = pg
    r = await client.post("/api/v1/artists", json={"name": {"full": "Maren Økland"}})
    assert r.status_code == 201, r.text
    made = r.json()
    twin = (await client.post("/api/v1/artists", json={"name": {"full": "Maren Økland"}})).json()
    assert twin["content_cid"] == made["content_cid"]
    assert twin["id"] != made["id"]

    head = made["cid"]
    for round_ in range(4):
        results = await asyncio.gather(
            *(
                client.patch(
                    f"/api/v1/artists/{made['id']}",
                    json={"bio": f"{side} {round_}"},
                    headers={"If-Match": f'"{head}"'},
                )
                for side in ("left", "right")
            )
        )
        assert sorted(r.status_code for r in results) == [200, 412]
        head = next(r for r in results if r.status_code == 200).json()["cid"]

    both = await asyncio.gather(
        client.patch(f"/api/v1/artists/{made['id']}", json={"bio": "no lost update"}),
        client.patch(f"/api/v1/artists/{made['id']}", json={"links": ["https://example.org/"]}),
    )
    assert [r.status_code for r in both] == [200, 200]
    final = (await client.get(f"/api/v1/artists/{made['id']}")).json()
    assert final["n"] == 7
    assert final["bio"] == "no lost update"
    assert final["links"] == ["https://example.org/"]

    found = (await client.get("/api/v1/artists", params={"name_full": "økland"})).json()
    assert {a["id"] for a in found["items"]} == {made["id"], twin["id"]}
    for params in ({"name_full": "a\x00"}, {"sort": "name_full", "limit": 1}):
        r = await client.get("/api/v1/artists", params=params)
        assert r.status_code == 200, r.text
    r = await client.post("/api/v1/artists", json={"name": {"full": "nul\x00"}})
    assert r.status_code == 422

    image = (
        await client.post("/api/v1/files", params={"filename": "p.png"}, content=png())
    ).json()[0]
    image_file = (await client.post("/api/v1/image-files", json={"file": image["cid"]})).json()
    work = await client.post(
        "/api/v1/still-images",
        json={
            "title": {"full": "Harbour"},
            "creators": [{"artist": made["id"], "role": "painter"}],
            "image_files": [image_file["id"]],
            "tags": ["sea"],
            "year": 2019,
        },
    )
    assert work.status_code == 201, work.text
    by_artist = await client.get("/api/v1/still-images", params={"creators_artist": made["id"]})
    assert [w["id"] for w in by_artist.json()["items"]] == [work.json()["id"]]
    page = (await client.get("/api/v1/still-images", params={"sort": "year", "limit": 1})).json()
    assert page["next"] is None

    for block in await rows(db, Block):
        assert record_cid(block.data) == block.cid
    await write(db, ops.purge_still_image, actor=ADMIN, still_image_id=work.json()["id"])
    assert await count(db, RecordTerm) == 0
    assert await count(db, Record) == 3


async def test_same_content_created_concurrently(pg: tuple[httpx.AsyncClient, Database]) -> None:
    client, db = pg
    results = await asyncio.gather(
        *(client.post("/api/v1/artists", json={"name": {"full": "Same"}}) for _ in range(6))
    )
    assert [r.status_code for r in results] == [201] * 6
    made: list[dict[str, Any]] = [r.json() for r in results]
    assert len({m["id"] for m in made}) == 6
    assert len({m["content_cid"] for m in made}) == 1
    assert await count(db, Block) == 7
