"""Zips of many files, streamed as they are built: never held in memory or on disk whole."""

from __future__ import annotations

import stat
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession
from stream_zip import ZIP_AUTO, async_stream_zip

from mcore.access import Actor
from mcore.errors import Invalid
from mcore.files import ops
from mcore.files.derivatives import previews_of
from mcore.files.names import derived_extension
from mcore.storage import BlobStore

MAX_FILES = 1000


@dataclass(frozen=True)
class Member:
    """One entry of the zip: its name inside, and the blob it holds."""

    name: str
    cid: str
    size: int
    modified: datetime


def _unique(name: str, taken: set[str]) -> str:
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    candidate, n = name, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{stem} ({n}).{ext}" if ext else f"{stem} ({n})"
    taken.add(candidate.lower())
    return candidate


async def plan_zip(
    session: AsyncSession,
    *,
    actor: Actor,
    file_ids: Sequence[str],
    previews: bool,
    originals: bool = False,
) -> list[Member]:
    """The members of a zip of files the actor may read (all of them, or an error naming
    the first that is not found), with their previews under ``previews/`` if asked. Each
    file is what its download gives the actor (``ops.file_content``: an image's copy
    without its metadata for others than its owner, unless ``originals``)."""
    if not file_ids:
        raise Invalid("name at least one file id", field="ids")
    if len(file_ids) > MAX_FILES:
        raise Invalid(f"a zip holds at most {MAX_FILES} files", field="ids")
    taken: set[str] = set()
    members = []
    seen: set[str] = set()
    for file_id in file_ids:
        if file_id in seen:
            continue
        seen.add(file_id)
        file = await ops.get_file(session, actor=actor, file_id=file_id)
        content = await ops.file_content(session, actor=actor, file=file, originals=originals)
        name = _unique(content.filename, taken)
        members.append(
            Member(name=name, cid=content.cid, size=content.size, modified=file.created_at)
        )
        if previews:
            for row in await previews_of(session, file.cid):
                ext = derived_extension(row.content_type)
                preview_name = _unique(f"previews/{name}.{row.name}.{ext}", taken)
                members.append(
                    Member(name=preview_name, cid=row.cid, size=row.size, modified=row.created_at)
                )
    return members


def stream_zip(store: BlobStore, members: Sequence[Member]) -> AsyncIterable[bytes]:
    """The zip's bytes as they are made; each blob is read in chunks while it is sent.

    Members are stored uncompressed (deflate level 0): media is compressed already, and
    the zip then costs no more CPU than copying.
    """

    async def entries() -> AsyncIterator[tuple[str, datetime, int, object, AsyncIterator[bytes]]]:
        for member in members:
            yield (
                member.name,
                member.modified,
                stat.S_IFREG | 0o644,
                ZIP_AUTO(member.size, level=0),
                store.read(member.cid),
            )

    return async_stream_zip(entries())  # type: ignore[arg-type]
