"""Ingest: place staged blobs under their CIDs and record them, as one transaction.

Rows are written only after the blob is in place, inside a write transaction serialized
with garbage collection on the blob's CID, so a blob is never collected between being
placed and being referenced. Staging (the bytes) is in ``mcore.files.staging``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Actor, require_create, require_scope
from mcore.clock import utcnow
from mcore.db import serialize_on
from mcore.files.models import File, FileStatus
from mcore.files.staging import StagedUpload
from mcore.ids import new_id
from mcore.refs import RefKind, add_ref
from mcore.storage import BlobStore


async def record_uploads(
    session: AsyncSession,
    store: BlobStore,
    *,
    actor: Actor,
    uploads: Sequence[StagedUpload],
    status: FileStatus = FileStatus.stored,
    folder_id: str | None = None,
    guest: bool = False,
) -> list[File]:
    """Place staged blobs under their CIDs and write one file row (and reference) each.

    Runs inside the caller's write transaction; blobs are placed after the lock is held
    so garbage collection can never delete a blob between placing and referencing it.
    ``folder_id`` is where they go, checked by the caller (``mcore.uploads.ops``), as is
    ``guest``: a guest's upload into their own space when ``guest_uploads`` is on.
    """
    if guest:
        require_scope(actor, "files:write")
    else:
        require_create(actor, "files:write")
    for cid in sorted({u.blob.cid for u in uploads}):
        await serialize_on(session, f"blob:{cid}")
    now = utcnow()
    files = []
    for upload in uploads:
        await store.place(upload.blob)
        file = File(
            id=new_id(),
            cid=upload.blob.cid,
            owner_id=actor.id,
            filename=upload.filename,
            size=upload.blob.size,
            content_type=upload.content_type,
            declared_type=upload.declared_type,
            status=status,
            folder_id=folder_id,
            created_at=now,
            updated_at=now,
        )
        session.add(file)
        await add_ref(session, file.cid, RefKind.file, file.id)
        files.append(file)
    await session.flush()
    return files
