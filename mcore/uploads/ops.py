"""The upload op: staged files become file records, each with its processing queued and
announced, in one write transaction; their temp files are removed after it, whatever
happens. ``POST /api/v1/files`` and ``mstack ingest`` both call :func:`store_uploads`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Actor, Role, require_create, require_scope
from mcore.db import Database
from mcore.errors import Forbidden, InsufficientStorage, Unauthorized
from mcore.events import EventType, publish
from mcore.files.ingest import record_uploads
from mcore.files.models import File
from mcore.files.staging import StagedUpload, discard_uploads
from mcore.folders.models import Folder, Space
from mcore.folders.ops import may_upload_into, target_folder
from mcore.jobs.ops import enqueue_processing
from mcore.settings import Settings
from mcore.storage import BlobStore


def _file_payload(file: File) -> dict[str, object]:
    return {
        "file_id": file.id,
        "cid": file.cid,
        "filename": file.filename,
        "content_type": file.content_type,
        "size": file.size,
        "status": file.status,
        "job_id": file.job_id,
    }


async def upload_folder(
    session: AsyncSession,
    *,
    actor: Actor,
    folder_id: str | None,
    settings: Settings,
    size: int | None = None,
    check_only: bool = False,
) -> Folder | None:
    """Where an upload goes, after seed 000's checks in order, each with its own error: the
    folder exists (404; none named: the caller's user root), the space's account or group
    exists (404), then permission by space (403: ``mcore.folders.ops.may_upload_into``).
    Size and type are checked as the bytes arrive. Guests upload only into their own
    space, only when ``guest_uploads`` is on, and within ``guest_quota`` (``size`` more
    bytes, when known). ``check_only`` (a read transaction, before the bytes arrive) makes
    no user root and returns None for one."""
    if actor.role is Role.guest:
        if actor.id == "anonymous":
            raise Unauthorized("sign in first: guests without an account create nothing")
        if not settings.guest_uploads:
            raise Forbidden("guests cannot upload here (guest_uploads is off); ask an admin")
        require_scope(actor, "files:write")
    else:
        require_create(actor, "files:write")
    if folder_id is None and check_only:
        if actor.role is Role.guest:
            await _guest_room(session, actor, settings, size)
        return None
    folder = await target_folder(session, actor=actor, folder_id=folder_id, upload=True)
    if actor.role is Role.guest:
        if folder.space != Space.user or folder.owner_id != actor.id:
            raise Forbidden("guests upload only into their own space")
        await _guest_room(session, actor, settings, size)
    else:
        await may_upload_into(session, actor=actor, folder=folder)
    return folder


async def _guest_room(
    session: AsyncSession, actor: Actor, settings: Settings, size: int | None
) -> None:
    query = select(func.coalesce(func.sum(File.size), 0)).where(
        col(File.owner_id) == actor.id, col(File.deleted_at).is_(None)
    )
    held = int((await session.exec(query)).one())
    if held + (size or 0) > settings.guest_quota:
        raise InsufficientStorage(
            f"a guest holds at most {settings.guest_quota} bytes (guest_quota); you hold {held}"
        )


async def record_and_enqueue(
    session: AsyncSession,
    store: BlobStore,
    *,
    actor: Actor,
    uploads: Sequence[StagedUpload],
    settings: Settings,
    folder_id: str | None = None,
) -> list[File]:
    """``record_uploads`` into the folder ``folder_id`` names (the caller's user root when
    None), checked again here by :func:`upload_folder` in the write transaction, plus a
    processing job and a ``file.stored`` event per file, all in the caller's transaction:
    a file is never stored without its job, nor announced before it is."""
    folder = await upload_folder(
        session,
        actor=actor,
        folder_id=folder_id,
        settings=settings,
        size=sum(u.blob.size for u in uploads),
    )
    assert folder is not None
    files = await record_uploads(
        session,
        store,
        actor=actor,
        uploads=uploads,
        folder_id=folder.id,
        guest=actor.role is Role.guest,
    )
    for file in files:
        await enqueue_processing(session, file, settings=settings)
    await session.flush()
    for file in files:
        await publish(
            session, user_id=file.owner_id, type=EventType.file_stored, payload=_file_payload(file)
        )
    return files


async def store_uploads(
    db: Database,
    store: BlobStore,
    *,
    actor: Actor,
    uploads: Sequence[StagedUpload],
    settings: Settings,
    folder_id: str | None = None,
) -> list[File]:
    """Record staged uploads as ``actor``'s files (``record_and_enqueue``) and commit; then
    remove their temp files, also when recording failed, so nothing is left behind.

    The temp files go after the commit: one whose bytes were already stored is removed
    without holding the write lock (about 0.2 s per GiB).
    """
    try:
        async with db.session(write=True) as session:
            return await record_and_enqueue(
                session, store, actor=actor, uploads=uploads, settings=settings, folder_id=folder_id
            )
    finally:
        await discard_uploads(store, uploads)
