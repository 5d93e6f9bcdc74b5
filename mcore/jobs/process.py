"""The handler of a ``process_file`` job: pick the file's profile, make (or find) its
derivatives with the steps of ``mcore.media``, record them.

Bytes first, rows second: derivatives are made in a work folder, staged into the blob
store, and then placed and recorded in one transaction together with the file's new
status, the job's end and the ``file.ready`` event. A derivative set that already exists
for the same source and recipe is reused, not made again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import shutil
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.clock import utcnow
from mcore.db import Database
from mcore.events import EventType, publish
from mcore.files import derivatives
from mcore.files.derivatives import INFO, STRIPPED, Derivative, Output
from mcore.files.models import File, FileStatus
from mcore.jobs import queue
from mcore.jobs.models import Job, JobKind, Lane
from mcore.jobs.queue import LeaseLost
from mcore.media import steps
from mcore.media.errors import OverLimit, ProcessingError
from mcore.media.profiles import (
    OCR,
    OCR_RECIPE,
    OCR_TEXT,
    PUBLIC_COPY_RECIPE,
    RENDITION,
    Profile,
    max_size,
    ocr_kind,
    previews_recipe,
    profile_for,
)
from mcore.media.steps import Context, Made
from mcore.settings import Settings
from mcore.storage import BlobStore

WORK_SUFFIX = ".work"


@dataclass
class JobContext(Context):
    """What processing a job needs beyond a step's context: the database, the blob store,
    and the worker holding the job's lease."""

    db: Database
    store: BlobStore
    worker_id: str


@contextlib.asynccontextmanager
async def work_dir(settings: Settings, job_id: str) -> AsyncIterator[Path]:
    """A private folder in the data directory's temp area, removed whatever happens."""
    settings.tmp_dir.mkdir(parents=True, exist_ok=True)
    for stale in settings.tmp_dir.glob(f"job-{job_id}-*{WORK_SUFFIX}"):
        # left by an earlier attempt whose worker died; the job is ours now
        await asyncio.to_thread(shutil.rmtree, stale, True)
    path = settings.tmp_dir / f"job-{job_id}-{secrets.token_hex(4)}{WORK_SUFFIX}"
    path.mkdir(mode=0o700)
    try:
        yield path
    finally:
        await asyncio.to_thread(shutil.rmtree, path, True)


def remove_stale_work_dirs(settings: Settings, older_than: float) -> int:
    """Remove work folders left by a worker that died (older than ``older_than`` seconds)."""
    removed = 0
    if not settings.tmp_dir.exists():
        return 0
    cutoff = time.time() - older_than
    for entry in settings.tmp_dir.iterdir():
        if entry.name.endswith(WORK_SUFFIX) and entry.is_dir() and entry.stat().st_mtime < cutoff:
            shutil.rmtree(entry, ignore_errors=True)
            removed += 1
    return removed


async def source_path(store: BlobStore, cid: str, work: Path) -> Path:
    """A local path to read the source blob from (copied into ``work`` for remote stores)."""
    local = store.local_path(cid)
    if local is not None:
        if not local.exists():
            raise ProcessingError("the file's bytes are missing from the store", permanent=False)
        return local
    target = work / "source"
    with open(target, "wb") as f:
        async for chunk in store.read(cid):
            f.write(chunk)
    return target


async def _stage(store: BlobStore, made: Made, work: Path) -> None:
    """Stage what a recipe produced, plus its findings as the ``info`` derivative.

    Done last, just before recording, so a worker killed earlier leaves nothing in the
    store's temp area (only its work folder, which the next attempt removes)."""
    info_path = work / f"{made.recipe.processor}.info.json"
    info_path.write_text(json.dumps(made.info, sort_keys=True, separators=(",", ":")))
    items = [
        *made.produced,
        {"name": INFO, "path": str(info_path), "content_type": "application/json"},
    ]
    for item in items:
        blob = await derivatives.stage_file(store, Path(item["path"]))
        made.outputs.append(
            Output(
                name=item["name"],
                blob=blob,
                content_type=item["content_type"],
                width=item.get("width"),
                height=item.get("height"),
            )
        )


PROCESSORS = {Profile.image: steps.image, Profile.video: steps.video}


async def _load_info(store: BlobStore, row: derivatives.Derivative) -> dict[str, Any]:
    data = b"".join([chunk async for chunk in store.read(row.cid)])
    loaded: dict[str, Any] = json.loads(data)
    return loaded


async def process_file(ctx: JobContext, job: Job) -> dict[str, Any]:
    """Make a file's derivatives and record the outcome. Raises ``ProcessingError``."""
    settings = ctx.settings
    async with ctx.db.session() as session:
        file = await session.get(File, job.file_id) if job.file_id else None
        if file is None or file.deleted_at is not None:
            raise ProcessingError("the file was deleted before it could be processed")
        profile = profile_for(file.content_type)
        recipe = previews_recipe(profile)
        existing = await derivatives.find(session, file.cid, recipe)
        rendition_wanted = profile is Profile.video and settings.media.video_web_rendition
        existing_rendition = (
            await derivatives.find(session, file.cid, RENDITION) if rendition_wanted else {}
        )
        public_wanted = profile is Profile.image
        existing_public = (
            await derivatives.find(session, file.cid, PUBLIC_COPY_RECIPE) if public_wanted else {}
        )
        session.expunge_all()  # keep what was read usable after this read-only session
    if profile is Profile.other:
        raise ProcessingError("files of this type are stored without processing")
    limit = max_size(profile, settings)
    if file.size > limit:
        raise OverLimit(
            f"the file is {file.size} bytes; {profile.value} files are processed up to"
            f" {limit} bytes. The original is kept."
        )
    made_sets: list[Made] = []
    warnings: list[str] = []
    try:
        async with work_dir(settings, job.id) as work:
            if INFO in existing:
                main = Made(recipe, info=await _load_info(ctx.store, existing[INFO]))
            else:
                main = Made(recipe)
                src = await source_path(ctx.store, file.cid, work)
                await ctx.progress(5)
                if profile is Profile.document:
                    pdf = file.content_type == "application/pdf"
                    await (steps.pdf if pdf else steps.office)(ctx, src, work, main)
                else:
                    await PROCESSORS[profile](ctx, src, work, main)
            made_sets.append(main)
            media_info = main.info.get("media") or {}
            if rendition_wanted and media_info.get("has_video") and INFO not in existing_rendition:
                src = await source_path(ctx.store, file.cid, work)
                made_sets.append(await steps.rendition(ctx, src, work, media_info))
            if public_wanted and INFO not in existing_public:
                src = await source_path(ctx.store, file.cid, work)
                try:
                    made_sets.append(await steps.public_copy(ctx, src, work))
                except ProcessingError as exc:
                    warnings.append(
                        f"no copy without its metadata could be made ({exc.message}), so only"
                        " its owner can download the original"
                    )
            for made in made_sets:
                if made.produced or INFO not in existing or made is not main:
                    await _stage(ctx.store, made, work)
            public = existing_public.get(STRIPPED)
            return await _finish(ctx, job, file, profile, made_sets, warnings, public)
    finally:
        for made in made_sets:
            for output in made.outputs:
                await ctx.store.discard(output.blob)


async def _finish(
    ctx: JobContext,
    job: Job,
    file: File,
    profile: Profile,
    made_sets: list[Made],
    more_warnings: list[str],
    stripped: Derivative | None,
) -> dict[str, Any]:
    """Record the derivatives and the file's findings; ``stripped`` is the public copy
    made before (when this job made none)."""
    main = made_sets[0]
    warnings = [*(main.info.get("warnings") or []), *more_warnings]
    skipped = main.info.get("skipped")
    async with ctx.db.session(write=True) as session:
        current = await queue.owned(session, job_id=job.id, worker_id=ctx.worker_id)
        if current is None:
            raise LeaseLost(job.id)
        names: list[str] = []
        for made in made_sets:
            rows = await derivatives.record(
                session,
                ctx.store,
                source_cid=file.cid,
                recipe=made.recipe,
                outputs=made.outputs,
            )
            names.extend(sorted(n for n in rows if n not in (INFO, STRIPPED)))
            stripped = rows.get(STRIPPED, stripped)
        row = await session.get(File, file.id)
        result: dict[str, Any] = {
            "profile": profile.value,
            "derivatives": names,
            "warnings": warnings,
        }
        if skipped:
            result["skipped"] = skipped
        if row is not None:
            media = dict(main.info.get("media") or {})
            if main.info.get("capture"):
                media["capture"] = main.info["capture"]
            meta = dict(row.meta)
            meta["media"] = media
            meta["processing"] = {
                "profile": profile.value,
                "status": "skipped" if skipped else "done",
                "warnings": warnings,
                **({"reason": skipped} if skipped else {}),
            }
            if stripped is not None:
                meta["stripped_cid"] = stripped.cid
            else:
                meta.pop("stripped_cid", None)
            if main.info.get("gps"):
                meta["gps"] = main.info["gps"]
            else:
                meta.pop("gps", None)
            row.meta = meta
            row.status = FileStatus.ready
            row.updated_at = utcnow()
            session.add(row)
        queue.succeed(current, result=result)
        session.add(current)
        if row is not None and not skipped:
            await _queue_ocr(session, ctx.settings, row)
        await session.flush()
        await publish(
            session,
            user_id=current.owner_id,
            type=EventType.file_ready,
            payload={
                "job_id": current.id,
                "file_id": file.id,
                "cid": file.cid,
                "status": FileStatus.ready.value,
                "previews": names,
                "warnings": warnings,
                **({"skipped": skipped} if skipped else {}),
            },
        )
    return result


async def _queue_ocr(session: AsyncSession, settings: Settings, file: File) -> None:
    """With ``media.ocr_on_upload``, queue the text recognition of a processed image or
    PDF (its owner's job, bulk lane) unless its text was recognized before."""
    if not settings.media.ocr_on_upload or ocr_kind(file.content_type) is None:
        return
    if OCR_TEXT in await derivatives.find(session, file.cid, OCR_RECIPE):
        return
    await queue.enqueue(
        session,
        kind=JobKind.transform_file,
        owner_id=file.owner_id,
        file_id=file.id,
        lane=Lane.bulk,
        params={"kind": OCR},
        max_attempts=settings.jobs.max_attempts,
    )
