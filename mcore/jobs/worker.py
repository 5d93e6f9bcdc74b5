"""The worker: claims jobs, runs them with a bounded concurrency, reports progress.

It is a part of its own, above every job's handler (``process_file``; ``fetch_url``, which
ends in the upload op). ``mstack serve`` runs one inside the server process (the
embedded default); ``mstack worker`` runs one as a separate process against the same
database. Fresh uploads are never starved by bulk work: bulk jobs may hold at most
``jobs.bulk_share`` slots, and a free slot always takes a fresh job first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from mcore import logs, metrics
from mcore.clock import utcnow
from mcore.db import Database
from mcore.events import EventType, prune_events, publish
from mcore.events.wakeup import JOBS, Bus, acquire_bus, release_bus
from mcore.fetch.ops import run_fetch
from mcore.files.models import File, FileStatus
from mcore.folders.purge import purge_folder
from mcore.jobs import queue
from mcore.jobs.models import PROCESSING_KINDS, Job, JobKind, Lane
from mcore.jobs.process import JobContext, process_file, remove_stale_work_dirs
from mcore.jobs.queue import LeaseLost
from mcore.jobs.transform import run_transform
from mcore.media.errors import ProcessingError
from mcore.media.sandbox import Sandbox
from mcore.people import purge_account
from mcore.settings import Settings
from mcore.storage import BlobStore, open_store

log = logging.getLogger("mstack.worker")

PROGRESS_INTERVAL = 1.0  # seconds between progress writes of one job
PRUNE_INTERVAL = 600.0  # seconds between event-pruning passes

Handler = Callable[[JobContext, Job], Awaitable[dict[str, Any]]]
HANDLERS: dict[str, Handler] = {
    JobKind.process_file: process_file,
    JobKind.fetch_url: run_fetch,
    JobKind.purge_folder: purge_folder,
    JobKind.purge_account: purge_account,
    JobKind.transform_file: run_transform,
}


@dataclass
class _Running:
    job: Job
    task: asyncio.Task[None]
    progress: int = 0
    written: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Worker:
    """Runs jobs from the database until stopped."""

    def __init__(
        self,
        settings: Settings,
        *,
        db: Database | None = None,
        store: BlobStore | None = None,
        sandbox: Sandbox | None = None,
    ) -> None:
        self.settings = settings
        self._own_db = db is None
        self.db = db or Database(settings)
        self.store = store or open_store(settings)
        self._own_sandbox = sandbox is None
        self.sandbox = sandbox or Sandbox(
            memory_limit=settings.jobs.memory_limit,
            time_limit=settings.jobs.time_limit.total_seconds(),
        )
        self.id = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
        self.running: dict[str, _Running] = {}
        self._bus: Bus | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._kick = asyncio.Event()
        self._last_prune = 0.0
        self.completed = 0  # jobs finished by this worker (succeeded or failed for good)

    async def start(self) -> None:
        """Start claiming jobs in the background."""
        self._bus = await acquire_bus(self.settings)
        limit = self.settings.jobs.video_time_limit.total_seconds() * 2
        await asyncio.to_thread(remove_stale_work_dirs, self.settings, limit)
        self._loop_task = asyncio.create_task(self._loop(), name="mstack-worker")
        metrics.worker_slots.set(self.settings.jobs.concurrency)

    async def stop(self) -> None:
        """Stop claiming; hand running jobs back to the queue so they resume at once on the
        next start (a crash instead leaves them to their lease)."""
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None
        running = list(self.running.values())
        for item in running:
            item.task.cancel()
        for item in running:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await item.task
        for item in running:
            with contextlib.suppress(Exception):
                await self._release(item.job)
        if self._own_sandbox:
            await self.sandbox.close()
        if self._bus is not None:
            await release_bus(self._bus)
            self._bus = None
        if self._own_db:
            await self.db.dispose()

    async def run_forever(self, *, started: Callable[[], None] | None = None) -> None:
        """For ``mstack worker``: run until cancelled (``started`` is called once jobs are
        being claimed)."""
        await self.start()
        if started is not None:
            started()
        try:
            assert self._loop_task is not None
            await self._loop_task
        finally:
            await self.stop()

    async def drain(self) -> int:
        """Run until no job is due or running, then stop; the number of jobs finished."""
        await self.start()
        try:
            while True:
                await asyncio.sleep(0.05)
                if self.running:
                    continue
                async with self.db.session() as session:
                    due = await queue.next_due(session, lanes=[Lane.fresh, Lane.bulk])
                if (due is None or due > utcnow()) and not self.running:
                    return self.completed
        finally:
            await self.stop()

    # -- the claiming loop --------------------------------------------------------------

    def _lanes(self) -> list[Lane]:
        if len(self.running) >= self.settings.jobs.concurrency:
            return []
        jobs = self.settings.jobs
        # one slot always stays for fresh work (unless there is only one)
        share = min(jobs.bulk_share, max(1, jobs.concurrency - 1))
        bulk = sum(1 for r in self.running.values() if r.job.lane == Lane.bulk)
        return [Lane.fresh, Lane.bulk] if bulk < share else [Lane.fresh]

    async def _loop(self) -> None:
        assert self._bus is not None
        bus = self._bus
        poll = self.settings.jobs.poll_interval.total_seconds()
        while True:
            seen = bus.generation(JOBS)
            self._kick.clear()
            try:
                claimed = await self._claim_one()
            except Exception:
                log.exception("claiming a job failed; trying again shortly")
                claimed = False
            if claimed:
                continue
            await self._maybe_prune()
            waits = [
                asyncio.create_task(bus.wait(JOBS, seen, await self._sleep_for(poll))),
                asyncio.create_task(self._kick.wait()),
            ]
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiting in waits:
                    waiting.cancel()

    async def _sleep_for(self, poll: float) -> float:
        lanes = self._lanes()
        if not lanes:
            return poll
        async with self.db.session() as session:
            due = await queue.next_due(session, lanes=lanes)
        if due is None:
            return poll
        return max(0.01, min(poll, (due - utcnow()).total_seconds()))

    async def _claim_one(self) -> bool:
        lanes = self._lanes()
        if not lanes:
            return False
        async with self.db.session(write=True) as session:
            job = await queue.claim(
                session, worker_id=self.id, lanes=lanes, lease=self.settings.jobs.lease
            )
            if job is None:
                return False
            file = await _processed_file(session, job)
            if file is not None:
                file.status = FileStatus.processing
                file.updated_at = utcnow()
                session.add(file)
            await session.flush()
            await publish(
                session,
                user_id=job.owner_id,
                type=EventType.job_progress,
                payload=_progress_payload(job),
            )
        item = _Running(job=job, task=asyncio.create_task(self._run(job), name=f"job-{job.id}"))
        self.running[job.id] = item
        metrics.worker_busy.set(len(self.running))
        item.task.add_done_callback(lambda _: self._done(job.id))
        return True

    def _done(self, job_id: str) -> None:
        self.running.pop(job_id, None)
        metrics.worker_busy.set(len(self.running))
        self._kick.set()

    async def _maybe_prune(self) -> None:
        now = time.monotonic()
        if now - self._last_prune < PRUNE_INTERVAL:
            return
        self._last_prune = now
        try:
            async with self.db.session(write=True) as session:
                await prune_events(session, before=utcnow() - self.settings.events.retention)
        except Exception:
            log.exception("pruning old events failed")

    # -- one job ------------------------------------------------------------------------

    async def _run(self, job: Job) -> None:
        # this task's own context: its log lines carry the job and its request's id
        logs.job_id.set(job.id)
        logs.request_id.set(str(job.params.get("request_id") or "") or None)
        heartbeat = asyncio.create_task(self._heartbeat(job))

        async def progress(value: int) -> None:
            await self._progress(job, value)

        context = JobContext(
            settings=self.settings,
            db=self.db,
            store=self.store,
            sandbox=self.sandbox,
            worker_id=self.id,
            progress=progress,
        )
        try:
            handler = HANDLERS.get(job.kind)
            if handler is None:
                raise ProcessingError(f"unknown job kind {job.kind!r}")
            started = time.monotonic()
            await handler(context, job)
            self.completed += 1
            log.info("job %s (%s) done in %.2fs", job.id, job.kind, time.monotonic() - started)
        except LeaseLost:
            log.warning("job %s was taken over by another worker", job.id)
        except asyncio.CancelledError:
            raise
        except ProcessingError as exc:
            await self._fail(job, exc.message, retry=not exc.permanent)
        except Exception as exc:
            log.exception("job %s failed unexpectedly", job.id)
            await self._fail(
                job, f"an internal error stopped processing ({type(exc).__name__})", retry=True
            )
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _heartbeat(self, job: Job) -> None:
        every = self.settings.jobs.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            item = self.running.get(job.id)
            if item is None:
                return
            async with item.lock, self.db.session(write=True) as session:
                ours = await queue.renew(
                    session, job_id=job.id, worker_id=self.id, lease=self.settings.jobs.lease
                )
            if not ours:
                log.warning("lost the lease of job %s; stopping it", job.id)
                item.task.cancel()
                return

    async def _progress(self, job: Job, value: int) -> None:
        """Record progress at most about once a second (and always the last step)."""
        item = self.running.get(job.id)
        if item is None or value <= item.progress:
            return
        item.progress = value
        now = time.monotonic()
        if now - item.written < PROGRESS_INTERVAL:
            return
        async with item.lock:
            item.written = now
            async with self.db.session(write=True) as session:
                ours = await queue.renew(
                    session,
                    job_id=job.id,
                    worker_id=self.id,
                    lease=self.settings.jobs.lease,
                    progress=value,
                )
                if ours:
                    job.progress = value
                    await publish(
                        session,
                        user_id=job.owner_id,
                        type=EventType.job_progress,
                        payload=_progress_payload(job),
                    )
        if not ours:
            raise LeaseLost(job.id)

    async def _fail(self, job: Job, error: str, *, retry: bool) -> None:
        async with self.db.session(write=True) as session:
            current = await queue.owned(session, job_id=job.id, worker_id=self.id)
            if current is None:
                return
            final = queue.fail(
                current,
                error=error,
                retry=retry,
                base_backoff=self.settings.jobs.retry_backoff,
            )
            session.add(current)
            file = await _processed_file(session, current)
            if file is not None:
                file.status = FileStatus.failed if final else FileStatus.queued
                file.updated_at = utcnow()
                session.add(file)
            await session.flush()
            if final:
                self.completed += 1
                await publish(
                    session,
                    user_id=current.owner_id,
                    type=EventType.job_failed,
                    payload={
                        "job_id": current.id,
                        "file_id": current.file_id,
                        "error": error,
                        "attempts": current.attempts,
                    },
                )
            else:
                await publish(
                    session,
                    user_id=current.owner_id,
                    type=EventType.job_progress,
                    payload=_progress_payload(current),
                )
        log.info(
            "job %s attempt %d failed%s: %s",
            job.id,
            job.attempts,
            "" if final else " (will retry)",
            error,
        )

    async def _release(self, job: Job) -> None:
        async with self.db.session(write=True) as session:
            current = await queue.owned(session, job_id=job.id, worker_id=self.id)
            if current is None:
                return
            queue.release(current)
            session.add(current)
            file = await _processed_file(session, current)
            if file is not None:
                file.status = FileStatus.queued
                session.add(file)


async def _processed_file(session: AsyncSession, job: Job) -> File | None:
    """The file whose status follows this job (its processing), if any."""
    if job.kind not in PROCESSING_KINDS or job.file_id is None:
        return None
    return await session.get(File, job.file_id)


def _progress_payload(job: Job) -> dict[str, object]:
    return {
        "job_id": job.id,
        "file_id": job.file_id,
        "state": job.state,
        "progress": job.progress,
        "attempts": job.attempts,
        **({"error": job.error, "retry_at": job.run_after.isoformat()} if job.error else {}),
    }
