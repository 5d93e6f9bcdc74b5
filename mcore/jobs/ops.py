"""Job ops: queue a file's processing, read, list and retry jobs, re-process files.

Permissions are checked here: a job is visible to the owner of its file and to admins.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Actor, require_scope
from mcore.clock import utcnow
from mcore.errors import Conflict, Forbidden, Invalid, NotFound
from mcore.events import EventType, publish
from mcore.files import ops as file_ops
from mcore.files.models import File, FileStatus
from mcore.ids import is_id
from mcore.jobs import queue
from mcore.jobs.models import PROCESSING_KINDS, Job, JobKind, JobPage, JobRead, JobState, Lane
from mcore.media.profiles import TRANSFORMS, Profile, ocr_kind, ocr_size_limit, profile_for
from mcore.pagination import check_limit, page_by_id
from mcore.settings import Settings


async def enqueue_processing(
    session: AsyncSession, file: File, *, settings: Settings, lane: Lane = Lane.fresh
) -> Job | None:
    """Queue the processing of a file when its profile has any; set its status to follow."""
    if profile_for(file.content_type) is Profile.other:
        return None
    job = await queue.enqueue(
        session,
        kind=JobKind.process_file,
        owner_id=file.owner_id,
        file_id=file.id,
        lane=lane,
        max_attempts=settings.jobs.max_attempts,
    )
    file.job_id = job.id
    file.status = FileStatus.queued
    file.updated_at = utcnow()
    session.add(file)
    return job


async def reprocess(
    session: AsyncSession, *, actor: Actor, file_ids: Sequence[str], settings: Settings
) -> list[Job]:
    """Queue files again on the bulk lane (admin): new processor versions, backfills."""
    if not actor.is_admin:
        raise Forbidden("only an admin may re-process files")
    jobs = []
    for file_id in file_ids:
        file = await file_ops.get_file(session, actor=actor, file_id=file_id)
        job = await enqueue_processing(session, file, settings=settings, lane=Lane.bulk)
        if job is not None:
            jobs.append(job)
    await session.flush()
    return jobs


async def request_transform(
    session: AsyncSession, *, actor: Actor, file_id: str, kind: str, settings: Settings
) -> Job:
    """Queue a transformation (``ocr``) of a file the actor may read; it needs the
    ``files:write`` scope. The job is the actor's: they follow it and hear its events. The
    same request while the actor's job for it is still queued or running gets that job."""
    file = await file_ops.get_file(session, actor=actor, file_id=file_id)
    require_scope(actor, "files:write")
    if kind not in TRANSFORMS:
        raise Invalid(
            f"unknown transformation {kind!r}; the kinds are: {', '.join(TRANSFORMS)}",
            field="kind",
        )
    source = ocr_kind(file.content_type)
    if source is None:
        raise Invalid(
            f"OCR reads images and PDFs; file {file_id!r} is {file.content_type}", field="kind"
        )
    limit = ocr_size_limit(source, settings)
    if file.size > limit:
        raise Invalid(
            f"the file is {file.size} bytes; text is recognized in files of up to {limit} bytes",
            field="kind",
        )
    pending = (
        await session.exec(
            select(Job).where(
                col(Job.file_id) == file.id,
                col(Job.kind) == JobKind.transform_file.value,
                col(Job.owner_id) == actor.id,
                col(Job.state).in_((JobState.queued.value, JobState.running.value)),
            )
        )
    ).first()
    if pending is not None and pending.params.get("kind") == kind:
        return pending
    job = await queue.enqueue(
        session,
        kind=JobKind.transform_file,
        owner_id=actor.id,
        file_id=file.id,
        params={"kind": kind},
        max_attempts=settings.jobs.max_attempts,
    )
    await session.flush()
    return job


def job_read(job: Job) -> JobRead:
    return JobRead.model_validate(job, from_attributes=True)


async def get_job(session: AsyncSession, *, actor: Actor, job_id: str) -> Job:
    """A job of the actor's own files (any job for an admin); others are not found."""
    require_scope(actor, "files:read")
    job = await session.get(Job, job_id) if is_id(job_id) else None
    if job is None or not (actor.is_admin or job.owner_id == actor.id):
        raise NotFound(f"no job with id {job_id!r}")
    return job


async def list_jobs(
    session: AsyncSession,
    *,
    actor: Actor,
    state: JobState | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> JobPage:
    """Every job, newest first, optionally of one state (admin)."""
    if not actor.is_admin:
        raise Forbidden("only an admin may list all jobs")
    check_limit(limit)
    query = select(Job)
    if state is not None:
        query = query.where(col(Job.state) == state.value)
    rows, next_cursor = await page_by_id(session, query, col(Job.id), cursor=cursor, limit=limit)
    return JobPage(items=[job_read(r) for r in rows], next=next_cursor)


async def retry_job(session: AsyncSession, *, actor: Actor, job_id: str) -> Job:
    """Queue a failed (or finished) job again from a clean slate (admin)."""
    if not actor.is_admin:
        raise Forbidden("only an admin may retry jobs")
    job = await get_job(session, actor=actor, job_id=job_id)
    if job.state in (JobState.queued, JobState.running):
        raise Conflict(f"job {job_id!r} is {job.state} already; wait for it to finish")
    queue.requeue(job)
    session.add(job)
    file = await session.get(File, job.file_id) if job.file_id else None
    if file is not None and job.kind in PROCESSING_KINDS:
        file.status = FileStatus.queued
        file.job_id = job.id
        file.updated_at = utcnow()
        session.add(file)
    await session.flush()
    queue.mark_wake(session)
    await publish(
        session,
        user_id=job.owner_id,
        type=EventType.job_progress,
        payload={"job_id": job.id, "file_id": job.file_id, "state": job.state, "progress": 0},
    )
    return job
