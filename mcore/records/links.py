"""Checking the links a record is about to hold: to files by CID, to records by stable id.

A link must name something that exists and that the writer may read, of the right kind;
otherwise the write is refused with 422 naming the field, before any block is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Actor
from mcore.access.objects import may_read_file, may_read_record
from mcore.errors import Invalid
from mcore.files.models import File
from mcore.files.sniff import is_allowed
from mcore.records.models import Record


@dataclass(frozen=True)
class LinkUse:
    """One link in a record: where it is, what it names, what it must name."""

    field: str
    target: str
    type_name: str | None = None  # a record type; None for a link to a file
    label: str = "file"
    content_types: tuple[str, ...] = ()


def record_link(field: str, target: str, type_name: str, label: str) -> LinkUse:
    """A link to a record of ``type_name`` (called ``label`` in messages)."""
    return LinkUse(field=field, target=target, type_name=type_name, label=label)


def file_link(field: str, target: str, content_types: tuple[str, ...] = ()) -> LinkUse:
    """A link to an uploaded file whose type matches one of ``content_types`` (any if empty)."""
    return LinkUse(field=field, target=target, content_types=content_types)


async def check_links(session: AsyncSession, *, actor: Actor, uses: Sequence[LinkUse]) -> None:
    """Raise ``Invalid`` naming every link that is missing, unreadable, deleted or of the
    wrong kind. Records and files the actor may not read are reported like missing ones,
    so a refusal reveals nothing about them."""
    errors: list[dict[str, str]] = []
    record_ids = sorted({u.target for u in uses if u.type_name is not None})
    records: dict[str, Record] = {}
    if record_ids:
        rows = await session.exec(select(Record).where(col(Record.id).in_(record_ids)))
        records = {r.id: r for r in rows}
    file_cids = sorted({u.target for u in uses if u.type_name is None})
    types: dict[str, set[str]] = {}
    if file_cids:
        query = select(File).where(col(File.cid).in_(file_cids), col(File.deleted_at).is_(None))
        for file in await session.exec(query):
            if await may_read_file(session, actor, file):
                types.setdefault(file.cid, set()).add(file.content_type)
    for use in uses:
        message = None
        if use.type_name is not None:
            record = records.get(use.target)
            if record is None or not await may_read_record(session, actor, record):
                message = f"no {use.label} with id {use.target} that you may read"
            elif record.type != use.type_name:
                article = "an" if use.label[:1] in "aeiou" else "a"
                message = (
                    f"{use.target} is not {article} {use.label} (it is a {record.type} record)"
                )
            elif record.deleted_at is not None:
                message = f"{use.label} {use.target} was deleted"
        else:
            found = types.get(use.target)
            if not found:
                message = f"no uploaded file with CID {use.target} that you may read"
            elif use.content_types and not any(
                is_allowed(t, list(use.content_types)) for t in found
            ):
                kinds = ", ".join(sorted(found))
                wanted = ", ".join(use.content_types)
                message = f"file {use.target} is {kinds}; this field takes {wanted}"
        if message is not None:
            errors.append({"field": use.field, "message": message})
    if errors:
        first = errors[0]
        raise Invalid(first["message"], field=first["field"], errors=errors)
