"""The job queue: claims with leases, lanes, retries with backoff, take-over of dead workers."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from mcore.db import Database
from mcore.jobs import queue
from mcore.jobs.models import Job, JobKind, JobState, Lane
from mcore.settings import Settings

LEASE = timedelta(seconds=30)


async def _enqueue(db: Database, lane: Lane = Lane.fresh, priority: int = 0) -> str:
    async with db.session(write=True) as session:
        job = await queue.enqueue(
            session, kind=JobKind.process_file, owner_id="u", lane=lane, priority=priority
        )
        return job.id


async def _claim(db: Database, worker: str, lanes: list[Lane] | None = None) -> Job | None:
    async with db.session(write=True) as session:
        job = await queue.claim(
            session, worker_id=worker, lanes=lanes or [Lane.fresh, Lane.bulk], lease=LEASE
        )
        if job is not None:
            session.expunge(job)
        return job


async def _get(db: Database, job_id: str) -> Job:
    async with db.session() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        session.expunge(job)
        return job


async def test_fresh_lane_first_then_priority_then_age(db: Database) -> None:
    bulk = await _enqueue(db, Lane.bulk)
    old = await _enqueue(db)
    new_urgent = await _enqueue(db, priority=5)
    order = [(await _claim(db, "w")) for _ in range(3)]
    assert [j.id for j in order if j] == [new_urgent, old, bulk]
    assert await _claim(db, "w") is None
    claimed = order[0]
    assert claimed is not None
    assert claimed.state == JobState.running
    assert claimed.attempts == 1
    assert claimed.lease_owner == "w"


async def test_lanes_limit_what_is_claimed(db: Database) -> None:
    bulk = await _enqueue(db, Lane.bulk)
    assert await _claim(db, "w", [Lane.fresh]) is None
    job = await _claim(db, "w", [Lane.bulk])
    assert job is not None
    assert job.id == bulk


async def test_lease_expiry_hands_the_job_to_another_worker(
    db: Database, frozen_clock: Any
) -> None:
    job_id = await _enqueue(db)
    first = await _claim(db, "dead")
    assert first is not None
    assert await _claim(db, "alive") is None  # leased
    frozen_clock.offset += LEASE.total_seconds() + 1
    again = await _claim(db, "alive")
    assert again is not None
    assert again.id == job_id
    assert again.attempts == 2
    assert again.lease_owner == "alive"
    async with db.session(write=True) as session:
        # the presumed-dead worker can no longer renew or finish it
        assert not await queue.renew(session, job_id=job_id, worker_id="dead", lease=LEASE)
        assert await queue.owned(session, job_id=job_id, worker_id="dead") is None
        assert await queue.renew(
            session, job_id=job_id, worker_id="alive", lease=LEASE, progress=140
        )
    assert (await _get(db, job_id)).progress == 100  # clamped


async def test_retries_back_off_then_fail_for_good(db: Database, frozen_clock: Any) -> None:
    async with db.session(write=True) as session:
        job = await queue.enqueue(session, kind=JobKind.process_file, owner_id="u", max_attempts=3)
    base = timedelta(seconds=10)
    waits = []
    for attempt in range(1, 4):
        claimed = await _claim(db, "w")
        assert claimed is not None
        assert claimed.attempts == attempt
        async with db.session(write=True) as session:
            current = await queue.owned(session, job_id=job.id, worker_id="w")
            assert current is not None
            final = queue.fail(current, error=f"boom {attempt}", retry=True, base_backoff=base)
            session.add(current)
            waits.append((current.run_after - frozen_clock.now()).total_seconds())
        assert final is (attempt == 3)
        if not final:
            assert await _claim(db, "w") is None  # not due yet
            frozen_clock.offset += waits[-1] + 0.001
    assert waits[:2] == pytest.approx([10, 20], abs=0.01)
    failed = await _get(db, job.id)
    assert failed.state == JobState.failed
    assert failed.error == "boom 3"
    assert failed.finished_at is not None
    assert await _claim(db, "w") is None


async def test_a_permanent_error_does_not_retry(db: Database) -> None:
    job_id = await _enqueue(db)
    await _claim(db, "w")
    async with db.session(write=True) as session:
        current = await queue.owned(session, job_id=job_id, worker_id="w")
        assert current is not None
        assert queue.fail(current, error="over the limit", retry=False, base_backoff=LEASE)
        session.add(current)
    assert (await _get(db, job_id)).state == JobState.failed


async def test_release_and_requeue(db: Database) -> None:
    job_id = await _enqueue(db)
    await _claim(db, "w")
    async with db.session(write=True) as session:
        current = await queue.owned(session, job_id=job_id, worker_id="w")
        assert current is not None
        queue.release(current)
        session.add(current)
    released = await _get(db, job_id)
    assert released.state == JobState.queued
    assert released.attempts == 0  # a stopping worker's attempt does not count
    again = await _claim(db, "w2")
    assert again is not None
    assert again.id == job_id


async def _claim_all(settings: Settings, workers: int, jobs: int) -> list[str]:
    databases = [Database(settings) for _ in range(workers)]
    try:
        async with databases[0].session(write=True) as session:
            for _ in range(jobs):
                await queue.enqueue(session, kind=JobKind.process_file, owner_id="u")

        async def worker(db: Database, name: str) -> list[str]:
            got = []
            while True:
                async with db.session(write=True) as session:
                    job = await queue.claim(
                        session, worker_id=name, lanes=[Lane.fresh], lease=LEASE
                    )
                    if job is None:
                        return got
                    got.append(job.id)
                    await asyncio.sleep(0.002)  # hold the row lock a moment

        results = await asyncio.gather(*(worker(db, f"w{i}") for i, db in enumerate(databases)))
        return [job_id for got in results for job_id in got]
    finally:
        for db in databases:
            await db.dispose()


async def test_concurrent_claims_never_share_a_job(settings: Settings) -> None:
    """Several workers (each its own engine) claim at once: on SQLite the write lock
    serializes them, on PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets them pass each other."""
    claimed = await _claim_all(settings, workers=4, jobs=40)
    assert len(claimed) == 40
    assert len(set(claimed)) == 40
