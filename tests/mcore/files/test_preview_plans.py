"""A page's previews are found by one index seek per file: the statement
``derivatives.named`` sends, read from SQLite's own plan (a walk of every lasting
derivative of the instance grew with it, on every list page with covers)."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from sqlalchemy import event, make_url

from mcore.db import Database
from mcore.files import derivatives
from mcore.settings import Settings

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("backend", ["sqlite"])]


async def test_previews_by_name_seek_each_source(db: Database, settings: Settings) -> None:
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        sent.append((statement, params))

    engine = db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        async with db.session() as session:
            found = await derivatives.named(session, ["bafkr4ia", "bafkr4ib"], "preview-256")
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert found == {}
    statement, params = next((s, p) for s, p in sent if "FROM derivatives" in s)
    with sqlite3.connect(str(make_url(settings.db_url).database)) as plain:
        plan = [row[3] for row in plain.execute(f"EXPLAIN QUERY PLAN {statement}", params)]
    assert any("ix_derivatives_source_name" in step for step in plan), plan
