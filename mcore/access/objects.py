"""The one access function: what a principal may do to files, folders, records, and the
blobs they reference.

:func:`file_level`, :func:`folder_level` and :func:`record_level` give the level
(``mcore.access.Level``: view < edit < manage < own) one principal holds on one row,
from ownership, roles, the row's space (a user's own, a group's at the member's role,
the system space for platform staff), and live shares of it or of a folder above it,
capped by the credential's scopes; :func:`require_level` turns a missing level into a
403 that names it. The same rules as SQL conditions (:func:`readable_files`, rule by rule
:func:`readable_file_rules`, :func:`readable_records`, :func:`reachable_folders`) let lists
filter in the database before the page is cut; ``tests/api/access_matrix.md`` holds every
cell of the table.

DESIGN.md, "Who may read and write": a blob is
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
ask it; it writes nothing, and raises only ``Forbidden`` from :func:`require_level`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, func, or_, true
from sqlalchemy.orm import Mapped, aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access.roles import NEEDS, Action, Actor, Level, Role, Visibility
from mcore.clock import utcnow
from mcore.errors import Forbidden
from mcore.files.derivatives import IMAGE_TYPES, INFO, PUBLIC_COPY, STRIPPED, Derivative
from mcore.files.models import File
from mcore.folders.models import Folder, Space
from mcore.folders.paths import ancestor_ids
from mcore.records.models import Record, RecordVersion
from mcore.refs import BlobRef, RefKind
from mcore.sharing.models import Group, GroupMember, GroupRole, ObjectType, Share

# -- who is the principal: their groups and whether they are platform staff ---------------

GROUP_LEVEL = {
    GroupRole.owner: Level.manage,
    GroupRole.staff: Level.manage,
    GroupRole.member: Level.edit,
}


@dataclass(frozen=True)
class Memberships:
    """The groups an account is in, with its role in each, and what the system groups make
    of it: platform ``staff`` (admins and moderators are staff too) and ``support``."""

    groups: dict[str, GroupRole]
    staff: bool
    support: bool


async def memberships(session: AsyncSession, actor: Actor) -> Memberships:
    """One query: the actor's groups and system-group roles."""
    rows = (
        await session.exec(
            select(GroupMember.group_id, GroupMember.role, Group.system)
            .join(Group, col(Group.id) == col(GroupMember.group_id))
            .where(col(GroupMember.user_id) == actor.id, col(Group.deleted_at).is_(None))
        )
    ).all()
    groups = {group_id: GroupRole(role) for group_id, role, _ in rows}
    systems = {system for _, _, system in rows if system}
    return Memberships(
        groups=groups,
        staff=actor.is_moderator or "staff" in systems,
        support="support" in systems,
    )


def _my_groups(actor: Actor, *roles: GroupRole) -> Any:
    query = select(GroupMember.group_id).where(col(GroupMember.user_id) == actor.id)
    if roles:
        query = query.where(col(GroupMember.role).in_([r.value for r in roles]))
    return query


def _staff_clause(actor: Actor) -> ColumnElement[bool]:
    """SQL: the actor is platform staff (a moderator, an admin, or in the ``staff`` group)."""
    if actor.is_moderator:
        return true()
    return exists(
        select(GroupMember.group_id)
        .join(Group, col(Group.id) == col(GroupMember.group_id))
        .where(col(GroupMember.user_id) == actor.id, col(Group.system) == "staff")
    )


def _live_share(now: datetime) -> ColumnElement[bool]:
    return col(Share.revoked_at).is_(None) & (
        col(Share.expires_at).is_(None) | (col(Share.expires_at) > now)
    )


def live_shares_to(actor: Actor, *, now: datetime | None = None) -> ColumnElement[bool]:
    """SQL on ``shares``: not revoked, not expired, to the actor or a group of theirs."""
    return _live_share(now or utcnow()) & (
        (col(Share.user_id) == actor.id) | col(Share.group_id).in_(_my_groups(actor))
    )


def _shared(actor: Actor, kind: ObjectType, object_id: Any, level: Level) -> ColumnElement[bool]:
    return exists(
        select(Share.id).where(
            col(Share.object_type) == kind.value,
            col(Share.object_id) == object_id,
            col(Share.level) >= int(level),
            live_shares_to(actor),
        )
    )


# Above every character of a folder path (ids are lower-case base32, the separator "/"):
# a subtree is the range [path, path + "~"), which an index on ``folders.path`` answers.
PATH_END = "~"


def reachable_folders(actor: Actor, level: Level = Level.view) -> Any:
    """SQL: the ids of the folders on which ``actor`` holds at least ``level`` through a
    space or a folder share (as :func:`folder_level` decides for one folder), as one set
    the database builds once per statement: their own user space, their groups' spaces
    (at the role's level), the system space for staff, and every folder inside a folder
    shared with them (an index range on the path per share they hold). So a list filters
    each file by one lookup in that set, however many folders the instance has."""
    group_roles = [r for r, lv in GROUP_LEVEL.items() if lv >= level]
    space = col(Folder.space)
    by_space = (space == Space.user.value) & (col(Folder.owner_id) == actor.id)
    if group_roles:
        by_space = by_space | (
            (space == Space.group.value) & col(Folder.group_id).in_(_my_groups(actor, *group_roles))
        )
    if level <= Level.manage:
        by_space = by_space | ((space == Space.system.value) & _staff_clause(actor))
    owned = select(Folder.id).where(by_space)
    shared_root = aliased(Folder)
    inside = aliased(Folder)
    by_share = (
        select(inside.id)
        .select_from(Share)
        .join(shared_root, col(shared_root.id) == col(Share.object_id))
        .join(
            inside,
            (col(inside.path) >= col(shared_root.path))
            & (col(inside.path) < col(shared_root.path) + PATH_END),
        )
        .where(
            col(Share.object_type) == ObjectType.folder.value,
            col(Share.level) >= int(level),
            live_shares_to(actor),
        )
    )
    return owned.union(by_share)


def _in_readable_folder(actor: Actor, folder_id: Any) -> ColumnElement[bool]:
    return col(folder_id).in_(reachable_folders(actor, Level.view))


def can_read_clause(
    actor: Actor, *, owner_id: Mapped[str], visibility: Mapped[Any], hidden: Mapped[bool]
) -> ColumnElement[bool]:
    """``mcore.access.can_read`` (owners, moderators, public) as an SQL condition."""
    if actor.is_moderator:
        return true()
    return or_(owner_id == actor.id, (visibility == Visibility.public) & hidden.is_(False))


def readable_file_rules(actor: Actor) -> list[ColumnElement[bool]]:
    """The rules of :func:`readable_files` one by one (it is their ``OR``): the actor's own
    files, public ones not hidden, those named by a live file share to the actor, or to a
    group of theirs (:func:`live_shares_to`, as two rules), and those in a folder they may
    see; for moderators, every file. A list can ask each rule on its own index and merge
    the pages (``mcore.pagination.page_by_id_union``), where one ``OR`` walks the rows in
    id order until the page is full."""
    if actor.is_moderator:
        return [true()]
    now = utcnow()

    def shared(to: ColumnElement[bool]) -> ColumnElement[bool]:
        return col(File.id).in_(
            select(Share.object_id).where(
                col(Share.object_type) == ObjectType.file.value,
                col(Share.level) >= int(Level.view),
                _live_share(now),
                to,
            )
        )

    return [
        col(File.owner_id) == actor.id,
        (col(File.visibility) == Visibility.public) & col(File.hidden).is_(False),
        shared(col(Share.user_id) == actor.id),
        shared(col(Share.group_id).in_(_my_groups(actor))),
        col(File.folder_id).is_not(None) & _in_readable_folder(actor, col(File.folder_id)),
    ]


def readable_files(actor: Actor) -> ColumnElement[bool]:
    """SQL condition matching the file rows ``actor`` may read (as :func:`file_level`):
    their own, public ones, those shared with them, and those in a folder they may see."""
    if actor.is_moderator:
        return true()
    return or_(*readable_file_rules(actor))


def readable_records(actor: Actor) -> ColumnElement[bool]:
    """SQL condition matching the objects ``actor`` may read (as :func:`record_level`)."""
    if actor.is_moderator:
        return true()
    return can_read_clause(
        actor,
        owner_id=col(Record.owner_id),
        visibility=col(Record.visibility),
        hidden=col(Record.hidden),
    ) | _shared(actor, ObjectType.record, col(Record.id), Level.view)


# -- the level one principal holds on one object ------------------------------------------


def _capped(actor: Actor, level: Level, *, read: str, write: str) -> Level:
    """What the actor's scopes leave of ``level``: a key without the write scope only
    views; one without the read scope gets nothing."""
    if not actor.has_scope(read):
        return Level.none
    if level > Level.view and not actor.has_scope(write):
        return Level.view
    return level


async def _share_level(
    session: AsyncSession, actor: Actor, targets: list[tuple[ObjectType, str]]
) -> Level:
    if not targets or actor.id in ("anonymous",):
        return Level.none
    wanted = or_(
        *(
            (col(Share.object_type) == kind.value) & (col(Share.object_id) == object_id)
            for kind, object_id in targets
        )
    )
    best = await session.scalar(select(func.max(Share.level)).where(wanted, live_shares_to(actor)))
    return Level(int(best)) if best else Level.none


async def folder_level(
    session: AsyncSession,
    actor: Actor,
    folder: Folder,
    *,
    members: Memberships | None = None,
    scoped: bool = True,
) -> Level:
    """What ``actor`` may do to ``folder`` and what is in it: ``own`` in their own user
    space (and for admins), the group role's level in a group's space, ``manage`` in the
    system space for platform staff, else the best live share of it or of a folder above
    it; moderators view every folder. ``scoped`` caps it by the credential's scopes
    (:func:`_capped`); an upload asks without the cap, having checked ``files:write``
    itself, since a key that only writes may still add files where its account may."""
    if actor.is_admin or (folder.space == Space.user and folder.owner_id == actor.id):
        level = Level.own
    else:
        level = Level.view if actor.is_moderator else Level.none
        if folder.space in (Space.group, Space.system):  # another's user space: shares only
            members = members or await memberships(session, actor)
            if folder.space == Space.group and folder.group_id in members.groups:
                level = max(level, GROUP_LEVEL[members.groups[folder.group_id]])
            if folder.space == Space.system and members.staff:
                level = max(level, Level.manage)
        if level < Level.manage:
            targets = [(ObjectType.folder, i) for i in ancestor_ids(folder.path)]
            level = max(level, await _share_level(session, actor, targets))
    if not scoped:
        return level
    return _capped(actor, level, read="files:read", write="files:write")


async def file_level(session: AsyncSession, actor: Actor, file: File) -> Level:
    """What ``actor`` may do to ``file``: ``own`` for its owner and admins (a guest owns
    only what ``guest_uploads`` let them upload, and shares nothing); ``view`` for
    moderators and, when it is public and not hidden, for everyone; else what its folder
    gives (:func:`folder_level`) or a live share of the file itself. Agrees with
    :func:`readable_files` at ``view``."""
    if actor.is_admin or actor.id == file.owner_id:
        level = Level.own  # a guest's own upload (``guest_uploads``) too
    else:
        shown = file.visibility == Visibility.public and not file.hidden
        level = Level.view if actor.is_moderator or shown else Level.none
        if file.folder_id is not None:
            folder = await session.get(Folder, file.folder_id)
            if folder is not None:
                level = max(level, await folder_level(session, actor, folder))
        if level < Level.manage:
            level = max(level, await _share_level(session, actor, [(ObjectType.file, file.id)]))
    return _capped(actor, level, read="files:read", write="files:write")


async def record_level(session: AsyncSession, actor: Actor, record: Record) -> Level:
    """What ``actor`` may do to a versioned object: ``own`` for its owner and admins,
    ``view`` for moderators and (public, not hidden) everyone, else a live share of it."""
    if actor.is_admin or (actor.id == record.owner_id and actor.role is not Role.guest):
        level = Level.own
    else:
        shown = record.visibility == Visibility.public and not record.hidden
        level = Level.view if actor.is_moderator or shown else Level.none
        if level < Level.manage:
            level = max(level, await _share_level(session, actor, [(ObjectType.record, record.id)]))
    return _capped(actor, level, read="records:read", write="records:write")


def require_level(held: Level, action: Action, *, what: str) -> None:
    """``Forbidden`` naming the right that is missing, for a caller who may see the object
    (the caller answers 404 for one they may not: ``held`` is none)."""
    needed = NEEDS[action]
    if held < needed:
        raise Forbidden(
            f"you may {held.name} this {what}; to {action.value} it needs {needed.name}"
            + (" (or its owner)" if needed is Level.manage else "")
        )


async def may_read_file(session: AsyncSession, actor: Actor, file: File) -> bool:
    """Whether ``actor`` may read this file record (trashed or not: the caller decides)."""
    return await file_level(session, actor, file) >= Level.view


async def may_read_record(session: AsyncSession, actor: Actor, record: Record) -> bool:
    """Whether ``actor`` may read this versioned object (deleted or not)."""
    return await record_level(session, actor, record) >= Level.view


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
