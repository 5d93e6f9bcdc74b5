"""File record ops: read, list, rename, trash, restore, purge; a file's previews and the
blobs a caller may read. Permissions are checked here."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import literal, tuple_
from sqlmodel import SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import (
    Action,
    Actor,
    Level,
    Visibility,
    refuse_delete,
    require_moderate,
    require_scope,
)
from mcore.access.objects import (
    blob_type_for,
    bytes_given,
    file_level,
    folder_level,
    may_read_file,
    readable_file_rules,
    readable_files,
    readable_records,
    require_level,
)
from mcore.cid import RAW, parse_cid
from mcore.clock import utcnow
from mcore.errors import Conflict, Forbidden, Gone, Invalid, NotFound
from mcore.files import derivatives
from mcore.files.derivatives import Derivative, DerivativeRead
from mcore.files.models import File, FilePage, FileRead, FileStatus, FileUpdate, to_read
from mcore.files.names import sanitize_filename
from mcore.folders.models import Folder
from mcore.folders.ops import move_file
from mcore.ids import is_id
from mcore.pagination import (
    MAX_LIMIT,
    check_limit,
    decode_cursor,
    encode_cursor,
    fetch_page,
    page_by_id,
    page_by_id_union,
    unknown_cursor,
)
from mcore.records.models import Record
from mcore.refs import BlobRef, RefKind, remove_refs
from mcore.settings import Settings


def _not_found(file_id: str) -> NotFound:
    return NotFound(f"no file with id {file_id!r}")


async def get_file(
    session: AsyncSession, *, actor: Actor, file_id: str, trashed: bool = False
) -> File:
    """A file the actor may read. Files of others that are not readable are simply not found."""
    require_scope(actor, "files:read")
    file = await session.get(File, file_id) if is_id(file_id) else None
    if file is None or not await may_read_file(session, actor, file):
        raise _not_found(file_id)
    if file.deleted_at is not None and not trashed:
        raise NotFound(f"file {file_id!r} is in the trash; restore it to use it")
    return file


async def list_files(
    session: AsyncSession,
    *,
    actor: Actor,
    cursor: str | None = None,
    limit: int = 50,
    trashed: bool = False,
    mine: bool = False,
    cid: str | None = None,
    folder_id: str | None = None,
) -> FilePage:
    """Files the actor may read, newest first. ``trashed`` lists the actor's trash instead;
    ``cid`` keeps only files with those bytes (how a client finds what it already uploaded);
    ``folder_id`` only those directly in that folder."""
    require_scope(actor, "files:read")
    check_limit(limit)
    query = select(File)
    if cid is not None:
        query = query.where(col(File.cid) == parse_cid(cid, codec=RAW))
    if folder_id is not None:
        query = query.where(col(File.folder_id) == folder_id)
    rules = None
    if trashed:
        query = query.where(col(File.deleted_at).is_not(None))
        if not actor.is_admin:
            query = query.where(col(File.owner_id) == actor.id)
    else:
        query = query.where(col(File.deleted_at).is_(None))
        if mine:
            query = query.where(File.owner_id == actor.id)
        elif session.get_bind().dialect.name == "postgresql":
            # a page of each rule, merged: each stops at the page's end on its own index,
            # and PostgreSQL prices it far below the OR (which it overestimates from the
            # readable folders). SQLite walks the OR newest first, faster there than the
            # rules' pages, which sort a reachable folder's every file (bench/README.md).
            rules = readable_file_rules(actor)
        else:
            query = query.where(readable_files(actor))
    if rules is None:
        rows, next_cursor = await page_by_id(
            session, query, col(File.id), cursor=cursor, limit=limit
        )
    else:
        rows, next_cursor = await page_by_id_union(
            session, query, col(File.id), rules, cursor=cursor, limit=limit
        )
    return FilePage(items=[to_read(row, actor_id=actor.id) for row in rows], next=next_cursor)


FILE_SORTS = ("-created", "created", "name", "-name", "size", "-size")
"""The file manager's orders: newest first (the default), by name, by size."""
FILE_KINDS = {
    "image": "image/",
    "video": "video/",
    "audio": "audio/",
    "pdf": "application/pdf",
    "text": "text/",
}
"""The file manager's type filters, each a prefix of the content type."""


async def browse_files(
    session: AsyncSession,
    *,
    actor: Actor,
    cursor: str | None = None,
    limit: int = 50,
    sort: str = "-created",
    kind: str | None = None,
    name: str | None = None,
    trashed: bool = False,
) -> FilePage:
    """The actor's own files (or with ``trashed`` their trash) for the file manager: in a
    ``FILE_SORTS`` order, of a ``FILE_KINDS`` type, whose name holds ``name`` (any case),
    a keyset page at a time."""
    require_scope(actor, "files:read")
    check_limit(limit)
    if sort not in FILE_SORTS:
        raise Invalid(f"cannot sort files by {sort!r}: choose one of {', '.join(FILE_SORTS)}")
    if kind is not None and kind not in FILE_KINDS:
        raise Invalid(f"no file type {kind!r}: choose one of {', '.join(FILE_KINDS)}")
    deleted = col(File.deleted_at)
    query = select(File).where(
        col(File.owner_id) == actor.id, deleted.is_not(None) if trashed else deleted.is_(None)
    )
    if kind is not None:
        query = query.where(col(File.content_type).startswith(FILE_KINDS[kind], autoescape=True))
    if name:
        query = query.where(
            func.lower(col(File.filename)).contains(name.lower()[:255], autoescape=True)
        )
    descending = sort.startswith("-")
    key = sort.removeprefix("-")
    ident = col(File.id)
    if key == "created":  # ids sort by time
        column: Any = ident
    elif key == "name":
        column = func.lower(col(File.filename))
    else:
        column = col(File.size)
    after = decode_cursor(cursor)
    if after is not None:
        last = after.get("id")
        value = after.get("v")
        if (
            after.get("sort") != sort
            or not isinstance(last, str)
            or not is_id(last)
            or not isinstance(value, str if key != "size" else int)
        ):
            raise unknown_cursor()
        if key == "created":
            query = query.where(ident < last if descending else ident > last)
        else:
            here, there = tuple_(column, ident), tuple_(literal(value), literal(last))
            query = query.where(here < there if descending else here > there)
    order = [column.desc(), ident.desc()] if descending else [column, ident]
    rows, last_row = await fetch_page(session, query.order_by(*order), limit=limit)
    next_cursor = None
    if last_row is not None:
        value = {"created": last_row.id, "name": last_row.filename.lower(), "size": last_row.size}
        next_cursor = encode_cursor({"sort": sort, "v": value[key], "id": last_row.id})
    return FilePage(items=[to_read(row, actor_id=actor.id) for row in rows], next=next_cursor)


async def count_files(session: AsyncSession, *, actor: Actor) -> int:
    """How many files the actor owns, out of the trash."""
    require_scope(actor, "files:read")
    query = select(func.count()).where(
        col(File.owner_id) == actor.id, col(File.deleted_at).is_(None)
    )
    return int((await session.exec(query)).one())


async def update_file(
    session: AsyncSession, *, actor: Actor, file_id: str, data: FileUpdate
) -> File:
    """Rename a file (``edit``), change its visibility (``manage``: making it public shares
    it with everyone), move it to another folder (``manage`` here, ``edit`` there: see
    ``mcore.folders.ops.move_file``, which the caller runs for ``folder_id``); hide or show a
    public file (moderator or admin)."""
    file = await get_file(session, actor=actor, file_id=file_id)
    require_scope(actor, "files:write")
    held = await file_level(session, actor, file)
    if data.filename is not None or data.hidden is None:
        require_level(held, Action.update, what="file")
    if data.visibility is not None:
        require_level(held, Action.share, what="file")
    changed = False
    if data.hidden is not None:
        require_moderate(actor, scope="files:write")
        if data.hidden and not file.hidden and file.visibility != Visibility.public:
            raise Invalid("only a public file can be hidden; this one is private", field="hidden")
        changed |= data.hidden != file.hidden
        file.hidden = data.hidden
    if data.filename is not None:
        name = sanitize_filename(data.filename)
        changed |= name != file.filename
        file.filename = name
    if data.visibility is not None and data.visibility != file.visibility:
        file.visibility = data.visibility
        changed = True
    if data.folder_id is not None and data.folder_id != file.folder_id:
        await move_file(session, actor=actor, file=file, folder_id=data.folder_id)
        changed = True
    if changed:
        file.updated_at = utcnow()
        session.add(file)
        await session.flush()
    return file


async def trash_file(
    session: AsyncSession, *, actor: Actor, file_id: str, undeletable: Collection[str] = ()
) -> File:
    """Move a file to the trash (its owner, an admin, or ``manage`` on it or its folder);
    it can be restored for ``trash_retention``."""
    file = await get_file(session, actor=actor, file_id=file_id)
    require_scope(actor, "files:write")
    require_level(await file_level(session, actor, file), Action.delete, what="file")
    refuse_delete(undeletable, "files")
    file.deleted_at = file.updated_at = utcnow()
    session.add(file)
    await session.flush()
    return file


async def restore_file(
    session: AsyncSession, *, actor: Actor, file_id: str, settings: Settings
) -> File:
    """Bring a file back from the trash within the retention time."""
    file = await get_file(session, actor=actor, file_id=file_id, trashed=True)
    require_scope(actor, "files:write")
    require_level(await file_level(session, actor, file), Action.restore, what="file")
    if file.deleted_at is None:
        return file
    if file.deleted_with is not None:
        raise Conflict(
            f"file {file_id!r} went to the trash with its folder; restore the folder",
            folder_id=file.deleted_with,
        )
    if file.deleted_at + settings.trash_retention < utcnow():
        raise Gone(f"file {file_id!r} was deleted too long ago to restore")
    file.deleted_at = None
    file.updated_at = utcnow()
    session.add(file)
    await session.flush()
    return file


async def purge_trash(session: AsyncSession, *, before: datetime) -> list[str]:
    """Remove file rows (and their blob references) trashed before ``before``."""
    query = select(File).where(col(File.deleted_at) < before)
    rows = list((await session.exec(query)).all())
    for file in rows:
        await remove_refs(session, RefKind.file, file.id)
        await session.delete(file)
    await session.flush()
    return [f.id for f in rows]


async def readable_blob_type(
    session: AsyncSession, *, actor: Actor, cid: str, originals: bool = False
) -> str:
    """The content type of a blob the actor may read (from a live file that references it,
    or a record the actor may read that links it, or the source of a derived blob:
    ``mcore.access.objects``). ``originals`` is ``media.serve_public_originals``: an
    image's original goes to others than its owner only with it, or when it carries no
    personal metadata.

    ``NotFound`` when there is no such file or record: a blob is readable only through
    something that references it.
    """
    require_scope(actor, "files:read")
    found = await blob_type_for(session, actor=actor, cid=cid, originals=originals)
    if found is None:
        raise NotFound(f"no blob {cid} that you may read")
    return found


# The extension a download's name gets when its public copy is of another format (HEIC
# becomes JPEG).
EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "image/tiff": ".tif",
    "image/avif": ".avif",
}


@dataclass(frozen=True)
class Content:
    """The bytes of a file that one caller is given, and under what type and name."""

    cid: str
    size: int
    content_type: str
    filename: str
    original: bool


async def file_content(
    session: AsyncSession, *, actor: Actor, file: File, originals: bool = False
) -> Content:
    """What ``actor``, who may read ``file``, downloads of it: the original for its owner
    (and moderators), and for anyone when ``originals`` (``media.serve_public_originals``)
    or when it is not an image or carries no personal metadata; otherwise the image's
    public copy, without its GPS position, camera or other metadata (``stripped_cid`` on
    the file record). ``Conflict`` while that copy is being made, ``Forbidden`` when it
    could not be."""
    given = await bytes_given(session, actor=actor, file=file, originals=originals)
    if given.original:
        return Content(file.cid, file.size, file.content_type, file.filename, original=True)
    copy = given.copy
    if copy is None:
        if file.status in (FileStatus.queued, FileStatus.processing):
            raise Conflict(
                f"file {file.id!r} is an image whose copy without its metadata (GPS position,"
                " camera) is still being made; try again when it is processed"
            )
        raise Forbidden(
            f"only its owner may download file {file.id!r}: it is an image that may carry"
            " personal metadata (GPS position, camera), and no copy without it could be made"
        )
    filename = file.filename
    if copy.content_type != file.content_type:
        filename += EXTENSIONS.get(copy.content_type, "")
    return Content(copy.cid, copy.size, copy.content_type, filename, original=False)


def _derivative_read(file: File, row: Derivative) -> DerivativeRead:
    return DerivativeRead(
        name=row.name,
        cid=row.cid,
        content_type=row.content_type,
        size=row.size,
        width=row.width,
        height=row.height,
        processor=row.processor,
        version=row.version,
        url=f"/api/v1/files/{file.id}/previews/{row.name}",
    )


async def list_previews(
    session: AsyncSession, *, actor: Actor, file_id: str
) -> list[DerivativeRead]:
    """The previews and other derived files of a file the actor may read."""
    file = await get_file(session, actor=actor, file_id=file_id)
    rows = await derivatives.previews_of(session, file.cid)
    return [_derivative_read(file, row) for row in rows]


async def with_preview(session: AsyncSession, *, files: Sequence[FileRead], name: str) -> set[str]:
    """The ids of those files (each one the caller has read) that have the preview ``name``
    (``preview-256``, ...): one query for a page of them."""
    found = await derivatives.having(session, [f.cid for f in files], name)
    return {f.id for f in files if f.cid in found}


async def preview_blobs(
    session: AsyncSession, *, actor: Actor, cids: Sequence[str], name: str
) -> dict[str, str]:
    """The CID of the preview ``name`` of each of these file CIDs (ones the caller found
    linked from records it read), for addresses under ``/blobs/``; fetching one checks
    again that the caller may read it."""
    require_scope(actor, "files:read")
    return await derivatives.named(session, [c for c in cids if isinstance(c, str)], name)


async def get_preview(
    session: AsyncSession, *, actor: Actor, file_id: str, name: str
) -> tuple[File, Derivative]:
    """One derived file (by name) of a file the actor may read."""
    file = await get_file(session, actor=actor, file_id=file_id)
    for row in await derivatives.previews_of(session, file.cid):
        if row.name == name:
            return file, row
    raise NotFound(f"file {file_id!r} has no {name!r} preview (yet)")


class Reference(SQLModel):
    """Something that uses a file: a record whose head links its bytes, the folder it is
    in, or another file record of the same bytes."""

    kind: Literal["record", "folder", "file"]
    id: str
    type: str | None = None  # a record's `$type`, such as `mart/artist`
    name: str | None = None  # a folder's or file's name


async def file_references(session: AsyncSession, *, actor: Actor, file_id: str) -> list[Reference]:
    """Who uses a file, as far as the caller may see: records (their current heads) that
    link its bytes, its folder, and other live file records of the same bytes. Three
    queries, each filtered in SQL by the one access rule."""
    file = await get_file(session, actor=actor, file_id=file_id)
    found: list[Reference] = []
    holders = (
        select(Record.id, Record.type)
        .join(
            BlobRef,
            (col(BlobRef.ref_id) == col(Record.content_cid))
            & (col(BlobRef.kind) == RefKind.record.value),
        )
        .where(
            col(BlobRef.cid) == file.cid,
            col(Record.deleted_at).is_(None),
            readable_records(actor),
        )
        .order_by(col(Record.id))
        .limit(MAX_LIMIT)
    )
    for record_id, record_type in (await session.exec(holders)).all():
        found.append(Reference(kind="record", id=record_id, type=record_type))
    if file.folder_id is not None:
        folder = await session.get(Folder, file.folder_id)
        if folder is not None and await folder_level(session, actor, folder) >= Level.view:
            found.append(Reference(kind="folder", id=folder.id, name=folder.name))
    twins = (
        select(File.id, File.filename)
        .where(
            col(File.cid) == file.cid,
            col(File.id) != file.id,
            col(File.deleted_at).is_(None),
            readable_files(actor),
        )
        .order_by(col(File.id))
        .limit(MAX_LIMIT)
    )
    for twin_id, name in (await session.exec(twins)).all():
        found.append(Reference(kind="file", id=twin_id, name=name))
    return found
