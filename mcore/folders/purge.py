"""Deleting a folder, seed 000's two steps.

Step I (:func:`delete_folder`, at once, in the request): check permission, find every
sub-folder, and take the folder, its sub-folders and their files out of view (the trash:
``mcore.folders.ops.trash_folder``), then queue step II. Step II (:func:`purge_folder`,
the ``purge_folder`` job): once no file inside is still being processed, remove the file
records and their blob references (so garbage collection may take blobs nothing else
references: a blob another file or record still uses stays), then the folder rows, with
progress like any job. Step II runs when the trash retention ends, or at once when the
caller asks (``purge``); a folder restored before then is left alone.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Actor
from mcore.clock import utcnow
from mcore.files.models import File
from mcore.folders.models import Folder, FolderRead
from mcore.folders.ops import trash_folder
from mcore.jobs import queue
from mcore.jobs.models import Job, JobKind, JobState, Lane
from mcore.jobs.process import JobContext
from mcore.jobs.queue import LeaseLost
from mcore.media.errors import ProcessingError
from mcore.refs import RefKind, remove_refs
from mcore.settings import Settings

BATCH = 200  # file rows removed per transaction
WAIT_ATTEMPTS = 100  # how often step II waits for processing before it gives up


async def delete_folder(
    session: AsyncSession, *, actor: Actor, folder_id: str, settings: Settings, purge: bool
) -> tuple[FolderRead, Job]:
    """Step I now, and step II queued: at the end of the trash retention, or at once
    (after any processing inside finishes) with ``purge``."""
    folder, restorable_until = await trash_folder(
        session, actor=actor, folder_id=folder_id, settings=settings
    )
    job = await queue.enqueue(
        session,
        kind=JobKind.purge_folder,
        owner_id=actor.id,
        lane=Lane.bulk,
        params={"folder_id": folder.id},
        max_attempts=WAIT_ATTEMPTS,
    )
    job.run_after = utcnow() if purge else restorable_until
    session.add(job)
    await session.flush()
    return folder, job


async def _still_processing(session: AsyncSession, folder_id: str) -> int:
    inside = select(File.id).where(col(File.deleted_with) == folder_id)
    query = select(func.count()).where(
        col(Job.file_id).in_(inside),
        col(Job.state).in_([JobState.queued.value, JobState.running.value]),
    )
    return int((await session.exec(query)).one())


async def purge_folder(ctx: JobContext, job: Job) -> dict[str, Any]:
    """The ``purge_folder`` job: step II. Raises ``ProcessingError`` (to be retried) while
    files inside are still processed."""
    folder_id = str(job.params["folder_id"])
    async with ctx.db.session() as session:
        folder = await session.get(Folder, folder_id)
        if folder is None or folder.deleted_with != folder.id:
            return await _finish(ctx, job, {"folder_id": folder_id, "purged": False})
        busy = await _still_processing(session, folder_id)
        total = int(
            (
                await session.exec(select(func.count()).where(col(File.deleted_with) == folder_id))
            ).one()
        )
    if busy:
        raise ProcessingError(
            f"waiting for the processing of {busy} file(s) in the folder to finish",
            permanent=False,
        )
    removed = 0
    blobs: set[str] = set()
    while True:
        async with ctx.db.session(write=True) as session:
            current = await queue.owned(session, job_id=job.id, worker_id=ctx.worker_id)
            if current is None:
                raise LeaseLost(job.id)
            folder = await session.get(Folder, folder_id)
            if folder is None or folder.deleted_with != folder.id:  # restored meanwhile
                break
            rows = list(
                (
                    await session.exec(
                        select(File).where(col(File.deleted_with) == folder_id).limit(BATCH)
                    )
                ).all()
            )
            for file in rows:
                await remove_refs(session, RefKind.file, file.id)
                blobs.add(file.cid)
                await session.delete(file)
            if not rows:
                await session.exec(delete(Folder).where(col(Folder.deleted_with) == folder_id))
                break
        removed += len(rows)
        await ctx.progress(min(99, removed * 100 // max(total, 1)))
    return await _finish(
        ctx,
        job,
        {"folder_id": folder_id, "purged": True, "files": removed, "blobs": len(blobs)},
    )


async def _finish(ctx: JobContext, job: Job, result: dict[str, Any]) -> dict[str, Any]:
    async with ctx.db.session(write=True) as session:
        current = await queue.owned(session, job_id=job.id, worker_id=ctx.worker_id)
        if current is None:
            raise LeaseLost(job.id)
        await queue.succeed_announced(session, current, result=result)
    return result
