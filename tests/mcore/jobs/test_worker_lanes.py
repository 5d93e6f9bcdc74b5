"""Fresh uploads are never starved by bulk work."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest
import pyvips
from sqlmodel import col, select

from mcore.db import Database
from mcore.jobs import queue
from mcore.jobs.models import Job, Lane
from mcore.settings import Settings
from tests import media
from tests.apphelpers import fast, running_app

pytestmark = pytest.mark.anyio


def _slow_png(seed: int) -> bytes:
    image = pyvips.Image.black(6000, 6000, bands=3).linear([1, 1, 1], [seed, 40, 80])
    return bytes(image.cast("uchar").pngsave_buffer(compression=1))


async def test_a_fresh_upload_overtakes_a_bulk_backlog(settings: Settings, db: Database) -> None:
    tuned = fast(settings)
    tuned.jobs.concurrency = 2
    tuned.jobs.bulk_share = 2  # capped: one slot always stays free for fresh work
    async with running_app(tuned, worker=False) as app:
        backlog = [await app.upload(_slow_png(n), f"old-{n}.png") for n in range(4)]
    async with db.session(write=True) as session:
        for record in backlog:
            job = await session.get(Job, record["job_id"])
            assert job is not None
            queue.requeue(job, lane=Lane.bulk)  # as a backfill would queue them
            session.add(job)
    async with running_app(tuned) as app:
        fresh = await app.upload(media.jpeg(200, 100), "new.jpg")
        done: dict[str, Any] = await app.finished(fresh["job_id"])
        assert done["state"] == "succeeded"
        for record in backlog:
            assert (await app.finished(record["job_id"]))["state"] == "succeeded"
    async with db.session() as session:
        rows = (await session.exec(select(Job).where(col(Job.lane) == "bulk"))).all()
        session.expunge_all()
    spans = sorted((j.started_at, j.finished_at) for j in rows)
    assert len(spans) == 4
    for (_, end), (start, _) in pairwise(spans):
        assert end is not None
        assert start is not None
        assert end <= start  # one bulk job at a time: the other slot stayed fresh
    fresh_start = done["started_at"]
    last_bulk_start = max(s for s, _ in spans).isoformat().replace("+00:00", "Z")
    assert fresh_start < last_bulk_start  # it did not wait behind the backlog
