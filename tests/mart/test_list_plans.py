"""The SQL of a record list is one the database answers from an index in order: no sort
of every matching row for each page (a cost that grows with the table; `bench.records`
measures it). Read from SQLite's own plan of the statements the list op sends."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from sqlalchemy import event, make_url

from mart._generated import models, ops
from mcore.db import Database
from mcore.settings import Settings
from tests.recordkit import ALICE, BOB, read, write

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("backend", ["sqlite"])]


async def _plans(db: Database, settings: Settings, **list_args: Any) -> tuple[Any, list[str]]:
    """The list's result, and SQLite's plan of its first statement (the page's rows)."""
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        sent.append((statement, params))

    engine = db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        page = await read(db, ops.list_still_images, actor=ALICE, limit=2, **list_args)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    statement, params = next((s, p) for s, p in sent if "FROM records" in s)
    with sqlite3.connect(str(make_url(settings.db_url).database)) as plain:
        plan = [row[3] for row in plain.execute(f"EXPLAIN QUERY PLAN {statement}", params)]
    return page, plan


async def test_the_default_order_and_its_deep_pages_walk_an_index(
    db: Database, settings: Settings
) -> None:
    for i in range(5):
        await write(
            db,
            ops.create_still_image,
            actor=ALICE if i % 2 else BOB,
            data=models.StillImageCreate.model_validate(
                {"title": {"full": f"Work {i}"}, "visibility": "public"}
            ),
        )
    first, plan = await _plans(db, settings)
    assert not any("TEMP B-TREE" in step for step in plan), plan
    assert first.next is not None
    deeper, plan = await _plans(db, settings, cursor=first.next)
    assert not any("TEMP B-TREE" in step for step in plan), plan
    assert {i.id for i in first.items}.isdisjoint(i.id for i in deeper.items)
    assert len(deeper.items) == 2
    # a nullable sort column still puts its nulls last (and may need the sort)
    by_year, _plan = await _plans(db, settings, sort="year")
    assert len(by_year.items) == 2
