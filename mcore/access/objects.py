"""Who may read stored objects: files, records, and the blobs they reference.

The role rules of ``mcore.access.roles`` applied to rows, in two forms that must agree: a
check on one row already loaded, and an SQL condition, so lists filter in the database by
the same rule before the page is cut. DESIGN.md, "Who may read and write": a blob is
readable by whoever may read a live file record of it, or an object some version of
which links it *while that object's owner can still read a live file of the bytes*
(:func:`lends_bytes`); a derived blob (a preview, an ``/image`` result) by whoever may read
a blob it was derived from. So a file made private, trashed or hidden by a moderator stops
lending its bytes to other people's records at once, and the owner's own upload of the
same bytes keeps lending them to the owner's records. An image goes as it is only to its
owner (and moderators) unless processing found no personal metadata in it
(:func:`shown_as_is`); everyone else gets its public copy, a derived blob, unless the
caller says originals are served (the ``media.serve_public_originals`` setting).

This module sits above the tables of files and records and below their ops, which both
ask it; it writes nothing and raises nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, exists, or_, true
from sqlalchemy.orm import Mapped, aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access.roles import Actor, Visibility, can_read
from mcore.files.derivatives import IMAGE_TYPES, INFO, PUBLIC_COPY, STRIPPED, Derivative
from mcore.files.models import File
from mcore.records.models import Record, RecordVersion
from mcore.refs import BlobRef, RefKind


def may_read_file(actor: Actor, file: File) -> bool:
    """Whether ``actor`` may read this file record (trashed or not: the caller decides)."""
    return can_read(actor, owner_id=file.owner_id, visibility=file.visibility, hidden=file.hidden)


def may_read_record(actor: Actor, record: Record) -> bool:
    """Whether ``actor`` may read this versioned object (deleted or not)."""
    return can_read(
        actor, owner_id=record.owner_id, visibility=record.visibility, hidden=record.hidden
    )


def can_read_clause(
    actor: Actor, *, owner_id: Mapped[str], visibility: Mapped[Any], hidden: Mapped[bool]
) -> ColumnElement[bool]:
    """``mcore.access.can_read`` as an SQL condition over a table's columns."""
    if actor.is_moderator:
        return true()
    return or_(owner_id == actor.id, (visibility == Visibility.public) & hidden.is_(False))


def readable_files(actor: Actor) -> ColumnElement[bool]:
    """SQL condition matching the file rows ``actor`` may read (as :func:`may_read_file`)."""
    return can_read_clause(
        actor, owner_id=col(File.owner_id), visibility=col(File.visibility), hidden=col(File.hidden)
    )


def readable_records(actor: Actor) -> ColumnElement[bool]:
    """SQL condition matching the objects ``actor`` may read (as :func:`may_read_record`)."""
    return can_read_clause(
        actor,
        owner_id=col(Record.owner_id),
        visibility=col(Record.visibility),
        hidden=col(Record.hidden),
    )


def shown_as_is(file: type[File]) -> ColumnElement[bool]:
    """SQL condition on a file row: its bytes may go as they are to people other than its
    owner. Not an image, or an image whose processing found nothing personal in its
    metadata (its public copy's ``info`` and no ``stripped`` copy): an image not processed
    yet, or whose copy could not be made, is withheld, never sent with its GPS."""
    copy = aliased(Derivative)
    copies = select(copy.id).where(
        col(copy.source_cid) == col(file.cid), col(copy.processor) == PUBLIC_COPY
    )
    checked = exists(copies.where(col(copy.name) == INFO))
    stripped = exists(copies.where(col(copy.name) == STRIPPED))
    return col(file.content_type).not_in(IMAGE_TYPES) | (checked & ~stripped)


def lends_bytes(
    file: type[File], *, owner_id: Mapped[str], originals: bool = True
) -> ColumnElement[bool]:
    """SQL condition: this file row lends its bytes to the records of ``owner_id``.

    A live file that is not hidden, and is that owner's own or public (a public image of
    someone else's only as :func:`shown_as_is` allows, unless ``originals``). This is "the
    record's owner can still read the linked file", as an owner or as anyone can: a
    moderator's right to read every file lends nothing, so a moderator's record exposes
    no private file, and a file a moderator hid lends its bytes to no record, its own
    owner's included (DESIGN.md: hiding withdraws public reads everywhere).
    """
    public = col(file.visibility) == Visibility.public
    return (
        col(file.deleted_at).is_(None)
        & col(file.hidden).is_(False)
        & ((col(file.owner_id) == owner_id) | (public if originals else public & shown_as_is(file)))
    )


def lent_by_readable_record(
    actor: Actor, file: type[File], *, originals: bool = True
) -> ColumnElement[bool]:
    """SQL condition on a file row: some object ``actor`` may read, some version of which
    links the row's bytes, has an owner to whom this row lends them (:func:`lends_bytes`).
    Correlated with the enclosing query's ``file``: one query, no lookups per record."""
    holders = (
        select(Record.id)
        .join(RecordVersion, col(RecordVersion.object_id) == col(Record.id))
        .join(
            BlobRef,
            (col(BlobRef.ref_id) == col(RecordVersion.content_cid))
            & (col(BlobRef.kind) == RefKind.record.value),
        )
        .where(
            col(BlobRef.cid) == col(file.cid),
            readable_records(actor),
            lends_bytes(file, owner_id=col(Record.owner_id), originals=originals),
        )
    )
    return exists(holders)


def readable_source(actor: Actor, file: type[File]) -> ColumnElement[bool]:
    """SQL condition on a live file row: ``actor`` may read what was derived from its
    bytes, through the row itself or through an object that links them."""
    return col(file.deleted_at).is_(None) & (
        readable_files(actor) | lent_by_readable_record(actor, file)
    )


def takes_original(actor: Actor, file: type[File], *, originals: bool) -> ColumnElement[bool]:
    """SQL condition on a file row ``actor`` may read: they get its bytes as they are. Its
    owner and moderators do; others when ``originals`` or :func:`shown_as_is`."""
    if originals or actor.is_moderator:
        return true()
    return (col(file.owner_id) == actor.id) | shown_as_is(file)


async def blob_type_for(
    session: AsyncSession, *, actor: Actor, cid: str, originals: bool = False
) -> str | None:
    """The content type under which ``actor`` may read the blob ``cid``; None when they may
    not. One query.

    Readable through a live file record the actor may read, or through an object the actor
    may read that links the bytes, while a live file of them lends them to that object's
    owner (:func:`lends_bytes`); the type is that file's (detected from the bytes). An
    image goes to others than its owner only as :func:`shown_as_is` allows, unless
    ``originals`` (``media.serve_public_originals``). A derived blob (a preview, an
    ``/image`` result, an image's public copy; never a processor's ``info``, which holds
    what the source's metadata said) is readable by whoever may read its source either
    way, under the type it was made as. Scopes are the caller's to check.
    """
    as_file = select(File.content_type).where(
        col(File.cid) == cid,
        col(File.deleted_at).is_(None),
        (readable_files(actor) & takes_original(actor, File, originals=originals))
        | lent_by_readable_record(actor, File, originals=originals),
    )
    as_derived = (
        select(Derivative.content_type)
        .join(File, col(File.cid) == col(Derivative.source_cid))
        .where(
            col(Derivative.cid) == cid,
            col(Derivative.name) != INFO,
            readable_source(actor, File),
        )
    )
    query = as_file.union_all(as_derived).limit(1)
    found = await session.scalar(query)
    return None if found is None else str(found)


@dataclass(frozen=True)
class Given:
    """Which bytes of a file someone who may read it gets: the original, or its public
    copy (``copy``); neither (``original`` false, no ``copy``) while the copy is not made."""

    original: bool
    copy: Derivative | None = None


async def bytes_given(
    session: AsyncSession, *, actor: Actor, file: File, originals: bool = False
) -> Given:
    """What ``actor``, who may read ``file``, is given of its bytes: the original as
    :func:`takes_original` allows (the rule ``blob_type_for`` applies), else the image's
    public copy. Two small queries at most."""
    query = select(File.id).where(
        col(File.id) == file.id, takes_original(actor, File, originals=originals)
    )
    if (await session.exec(query)).first() is not None:
        return Given(original=True)
    copy = (
        await session.exec(
            select(Derivative)
            .where(
                col(Derivative.source_cid) == file.cid,
                col(Derivative.processor) == PUBLIC_COPY,
                col(Derivative.name) == STRIPPED,
            )
            .order_by(col(Derivative.version).desc(), col(Derivative.id).desc())
        )
    ).first()
    return Given(original=False, copy=copy)
