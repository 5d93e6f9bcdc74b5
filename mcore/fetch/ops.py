"""The fetch op (queue a download of a URL as the caller's job) and the job's handler
(download into the temp area, then the upload op: record, processing job, events).

What can be told up front is refused at once (``Invalid``, a 422): a URL that is not
HTTP(S), carries credentials, or names a host that does not resolve or resolves to an
internal address. What only shows while fetching (a redirect to an internal address, too
large, too slow, an error status) fails the job with a sentence saying so.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import aclosing
from typing import Any

from pydantic import BaseModel, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Actor, Role, require_create
from mcore.auth.models import User
from mcore.cid import RAW, parse_cid
from mcore.errors import DomainError, Forbidden, InsufficientStorage, Invalid, Unavailable
from mcore.fetch.addresses import AllowList
from mcore.fetch.download import Answer, Failed, Refused, check_url, download, pin, where
from mcore.files.staging import StagedUpload, Stager, check_size, discard_uploads
from mcore.jobs import queue
from mcore.jobs.models import Job, JobKind, Lane
from mcore.jobs.process import JobContext
from mcore.jobs.queue import LeaseLost
from mcore.media.errors import ProcessingError
from mcore.settings import Settings
from mcore.uploads.ops import record_and_enqueue, upload_folder

log = logging.getLogger("mstack.fetch")


class FetchRequest(BaseModel):
    """What to fetch: the URL, and optionally the file's name and the CID expected."""

    url: str = Field(
        min_length=1,
        description="An `http://` or `https://` URL that answers the file's bytes without"
        " credentials (a direct-download or signed link)",
    )
    filename: str | None = Field(
        default=None,
        description="The file's name; default: the server's `Content-Disposition`, else the"
        " URL's last path segment",
    )
    expected_cid: str | None = Field(
        default=None,
        description="The CID the bytes must hash to; otherwise the job fails and nothing is kept",
    )
    folder_id: str | None = Field(
        default=None, description="The folder it goes into; default: the caller's own space"
    )


async def request_fetch(
    session: AsyncSession, *, actor: Actor, data: FetchRequest, settings: Settings
) -> Job:
    """Queue a download of ``data.url`` as ``actor``'s file. ``Invalid`` (field ``url``)
    for a URL that may not be fetched, as far as can be told before fetching it."""
    require_create(actor, "files:write")
    await upload_folder(
        session, actor=actor, folder_id=data.folder_id, settings=settings, check_only=True
    )
    if data.expected_cid is not None:
        try:
            parse_cid(data.expected_cid, codec=RAW)
        except Invalid as exc:
            raise Invalid(exc.detail, field="expected_cid") from None
    try:
        url = check_url(data.url)
        await pin(
            url,
            AllowList.parse(settings.fetch.allowed_hosts),
            wait=settings.fetch.connect_timeout.total_seconds(),
        )
    except Refused as exc:
        raise Invalid(f"this URL cannot be fetched: {exc.message}", field="url") from None
    job = await queue.enqueue(
        session,
        kind=JobKind.fetch_url,
        owner_id=actor.id,
        lane=Lane.fresh,
        max_attempts=settings.jobs.max_attempts,
        params={
            "url": data.url,
            "filename": data.filename,
            "expected_cid": data.expected_cid,
            "folder_id": data.folder_id,
            # the job acts with the credential's rights, not the whole account's
            "scopes": sorted(actor.scopes),
            # and under the upload limits in force now (they may change while running)
            "limits": {
                "max_upload_size": settings.max_upload_size,
                "allowed_content_types": list(settings.allowed_content_types),
            },
        },
    )
    await session.flush()
    return job


async def _actor(ctx: JobContext, job: Job) -> Actor:
    """The job's owner as they are now (a disabled or deleted account fetches nothing),
    with the scopes of the credential that asked."""
    async with ctx.db.session() as session:
        user = await session.get(User, job.owner_id)
        role = None if user is None or user.disabled else Role(user.role)
    if role is None:
        raise ProcessingError("the account that asked for this fetch is gone or disabled")
    actor = Actor(id=job.owner_id, role=role, scopes=frozenset(job.params.get("scopes") or ()))
    try:
        require_create(actor, "files:write")
    except DomainError as exc:
        raise ProcessingError(exc.detail) from None
    return actor


def _limited(settings: Settings, job: Job) -> Settings:
    """The settings with the upload limits that were in force when the fetch was asked
    for, as an upload made then would have had (``max_upload_size`` and
    ``allowed_content_types`` may change while running)."""
    limits = job.params.get("limits") or {}
    known = {k: v for k, v in limits.items() if k in ("max_upload_size", "allowed_content_types")}
    return settings.model_copy(update=known) if known else settings


async def _stage(ctx: JobContext, job: Job) -> StagedUpload:
    settings = _limited(ctx.settings, job)
    params = job.params
    stager: Stager | None = None
    answer: Answer | None = None

    async def started(found: Answer) -> None:
        nonlocal stager, answer
        answer = found
        if found.length is not None:
            check_size(found.length, settings)
        stager = Stager(
            ctx.store,
            settings,
            filename=params.get("filename") or found.filename or found.url.host,
            declared_type=found.content_type,
            expected_cid=params.get("expected_cid"),
        )
        await ctx.progress(1)

    try:
        async with asyncio.timeout(settings.fetch.timeout.total_seconds()):
            chunks = download(params["url"], settings, start=started)
            async with aclosing(chunks):  # an early stop closes the connection at once
                async for chunk in chunks:
                    assert stager is not None
                    await stager.feed(chunk)
                    if answer is not None and answer.length:
                        await ctx.progress(min(99, 1 + stager.writer.size * 98 // answer.length))
            assert stager is not None
            return await stager.finish()
    except BaseException:
        if stager is not None:
            await stager.abort()
        raise


async def run_fetch(ctx: JobContext, job: Job) -> dict[str, Any]:
    """The ``fetch_url`` job: download, then record the file as its owner's (the upload
    op), finishing the job in the same transaction. Raises ``ProcessingError``."""
    actor = await _actor(ctx, job)
    shown = where(check_url(job.params["url"])) if job.params.get("url") else "the URL"
    try:
        staged = await _stage(ctx, job)
    except TimeoutError:
        limit = ctx.settings.fetch.timeout
        raise ProcessingError(
            f"the fetch from {shown} took longer than {limit} (fetch.timeout); nothing was kept"
        ) from None
    except Refused as exc:
        raise ProcessingError(f"{exc.message}; nothing was kept") from None
    except Failed as exc:
        permanent = not exc.transient
        raise ProcessingError(f"{exc.message}; nothing was kept", permanent=permanent) from None
    except (InsufficientStorage, Unavailable) as exc:
        raise ProcessingError(exc.detail, permanent=False) from None
    except DomainError as exc:  # over the size limit, a refused type, another CID
        raise ProcessingError(f"{exc.detail} (fetched from {shown})") from None
    try:
        async with ctx.db.session(write=True) as session:
            current = await queue.owned(session, job_id=job.id, worker_id=ctx.worker_id)
            if current is None:
                raise LeaseLost(job.id)
            (file,) = await record_and_enqueue(
                session,
                ctx.store,
                actor=actor,
                uploads=[staged],
                settings=ctx.settings,
                folder_id=job.params.get("folder_id"),
            )
            result: dict[str, Any] = {
                "file_id": file.id,
                "cid": file.cid,
                "filename": file.filename,
                "size": file.size,
                "content_type": file.content_type,
                "processing_job_id": file.job_id,
            }
            await queue.succeed_announced(session, current, result=result)
    except Forbidden as exc:
        raise ProcessingError(exc.detail) from None
    finally:
        await discard_uploads(ctx.store, [staged])
    log.info("fetched %s from %s (%d bytes)", result["cid"], shown, result["size"])
    return result
