"""The job queue in the database: enqueue, claim with a lease, renew, finish, retry.

A claim takes the next due job (fresh lane first) and leases it to one worker. On
PostgreSQL concurrent claims skip each other's rows (``FOR UPDATE SKIP LOCKED``); on
SQLite the write lock of ``BEGIN IMMEDIATE`` serializes them. A job whose lease runs out
(its worker died) is claimed again, which is how interrupted jobs resume after a restart.
Every update after the claim names the lease owner, so a worker that lost its lease
cannot overwrite the job's new owner.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore import logs
from mcore.clock import utcnow
from mcore.events import EventType, publish
from mcore.events.wakeup import JOBS, mark
from mcore.ids import new_id
from mcore.jobs.models import Job, JobKind, JobState, Lane


class LeaseLost(Exception):
    """Another worker took the job over (this one was presumed dead); drop it quietly."""


def _with_request_id(params: dict[str, Any] | None) -> dict[str, Any]:
    """The job's parameters, with the id of the request that queued it (for its logs)."""
    rid = logs.request_id.get()
    return {**(params or {}), "request_id": rid} if rid else dict(params or {})


async def enqueue(
    session: AsyncSession,
    *,
    kind: JobKind,
    owner_id: str,
    file_id: str | None = None,
    lane: Lane = Lane.fresh,
    priority: int = 0,
    params: dict[str, Any] | None = None,
    max_attempts: int = 3,
) -> Job:
    """Add a queued job in the caller's transaction; workers wake once it commits."""
    now = utcnow()
    job = Job(
        id=new_id(),
        kind=kind.value,
        file_id=file_id,
        owner_id=owner_id,
        lane=lane.value,
        priority=priority,
        state=JobState.queued.value,
        max_attempts=max_attempts,
        params=_with_request_id(params),
        run_after=now,
        created_at=now,
        updated_at=now,
    )
    session.add(job)
    mark(session, JOBS)
    return job


def _due(now: datetime, lanes: list[Lane]) -> ColumnElement[bool]:
    queued = and_(col(Job.state) == JobState.queued.value, col(Job.run_after) <= now)
    abandoned = and_(col(Job.state) == JobState.running.value, col(Job.lease_until) < now)
    return and_(or_(queued, abandoned), col(Job.lane).in_([lane.value for lane in lanes]))


async def claim(
    session: AsyncSession, *, worker_id: str, lanes: list[Lane], lease: timedelta
) -> Job | None:
    """Lease the next due job in ``lanes`` to ``worker_id`` (one attempt more), or None."""
    if not lanes:
        return None
    now = utcnow()
    lane_rank = case((col(Job.lane) == Lane.fresh.value, 0), else_=1)
    query = (
        select(Job)
        .where(_due(now, lanes))
        .order_by(lane_rank, col(Job.priority).desc(), col(Job.run_after), col(Job.id))
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    job = (await session.exec(query)).first()
    if job is None:
        return None
    job.state = JobState.running.value
    job.attempts += 1
    job.lease_owner = worker_id
    job.lease_until = now + lease
    job.started_at = job.started_at or now
    job.updated_at = now
    job.error = None
    session.add(job)
    await session.flush()
    return job


async def renew(
    session: AsyncSession,
    *,
    job_id: str,
    worker_id: str,
    lease: timedelta,
    progress: int | None = None,
) -> bool:
    """Extend the lease (and record progress); False when the job is no longer ours."""
    now = utcnow()
    values: dict[str, Any] = {"lease_until": now + lease, "updated_at": now}
    if progress is not None:
        values["progress"] = max(0, min(100, progress))
    connection = await session.connection()
    result = await connection.execute(
        update(Job)
        .where(
            col(Job.id) == job_id,
            col(Job.lease_owner) == worker_id,
            col(Job.state) == JobState.running.value,
        )
        .values(**values)
    )
    return bool(getattr(result, "rowcount", 0))


async def owned(session: AsyncSession, *, job_id: str, worker_id: str) -> Job | None:
    """The job when ``worker_id`` still holds its lease (locked on PostgreSQL), else None."""
    query = select(Job).where(
        col(Job.id) == job_id,
        col(Job.lease_owner) == worker_id,
        col(Job.state) == JobState.running.value,
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return (await session.exec(query)).first()


def succeed(job: Job, *, result: dict[str, Any]) -> None:
    """Mark a job done (the caller has checked ownership with :func:`owned`)."""
    now = utcnow()
    job.state = JobState.succeeded.value
    job.progress = 100
    job.result = result
    job.error = None
    job.lease_owner = None
    job.lease_until = None
    job.finished_at = job.updated_at = now


async def succeed_announced(session: AsyncSession, job: Job, *, result: dict[str, Any]) -> None:
    """:func:`succeed`, and tell the job's owner in the same transaction (``job.progress``
    with state ``succeeded`` and the result): how a job whose handler finishes it itself
    (a fetch, a folder's or an account's purge) ends."""
    succeed(job, result=result)
    session.add(job)
    await session.flush()
    await publish(
        session,
        user_id=job.owner_id,
        type=EventType.job_progress,
        payload={
            "job_id": job.id,
            "file_id": None,
            "state": JobState.succeeded.value,
            "progress": 100,
            "attempts": job.attempts,
            "result": result,
        },
    )


def backoff(base: timedelta, attempts: int) -> timedelta:
    """Wait before the next attempt: ``base`` doubled for each attempt made after the first."""
    return base * (2 ** max(0, min(attempts - 1, 16)))


def fail(job: Job, *, error: str, retry: bool, base_backoff: timedelta) -> bool:
    """Record a failed attempt; queue another after a backoff when ``retry`` and attempts
    remain. Returns True when the job is now failed for good."""
    now = utcnow()
    job.error = error
    job.lease_owner = None
    job.lease_until = None
    job.updated_at = now
    if retry and job.attempts < job.max_attempts:
        job.state = JobState.queued.value
        job.run_after = now + backoff(base_backoff, job.attempts)
        return False
    job.state = JobState.failed.value
    job.finished_at = now
    return True


def requeue(job: Job, *, lane: Lane | None = None) -> None:
    """Queue a finished job again from a clean slate (an admin's retry)."""
    now = utcnow()
    job.state = JobState.queued.value
    job.attempts = 0
    job.progress = 0
    job.error = None
    job.run_after = now
    job.lease_owner = None
    job.lease_until = None
    job.started_at = None
    job.finished_at = None
    job.updated_at = now
    if lane is not None:
        job.lane = lane.value


async def next_due(session: AsyncSession, *, lanes: list[Lane]) -> datetime | None:
    """When the earliest queued job in ``lanes`` comes due (for sleeping until then)."""
    query = select(func.min(col(Job.run_after))).where(
        col(Job.state) == JobState.queued.value, col(Job.lane).in_([lane.value for lane in lanes])
    )
    return (await session.exec(query)).one()


async def count_active(session: AsyncSession) -> dict[str, int]:
    """How many jobs are queued and running (for status pages and tests)."""
    query = (
        select(col(Job.state), func.count())
        .where(col(Job.state).in_([JobState.queued.value, JobState.running.value]))
        .group_by(col(Job.state))
    )
    return {state: int(n) for state, n in (await session.exec(query)).all()}


def release(job: Job) -> None:
    """Give a running job back to the queue (the worker is stopping); the attempt it was
    on does not count."""
    now = utcnow()
    job.state = JobState.queued.value
    job.attempts = max(0, job.attempts - 1)
    job.run_after = now
    job.lease_owner = None
    job.lease_until = None
    job.updated_at = now


def mark_wake(session: AsyncSession) -> None:
    """Wake workers once the caller's transaction commits."""
    mark(session, JOBS)
