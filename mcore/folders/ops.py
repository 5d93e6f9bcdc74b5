"""Folder ops: roots, create, read with breadcrumbs, children, rename and move, trash
(seed 000's step I) and restore. Every decision is ``mcore.access.objects``'s; step II of
a delete, the purge of the files inside, is the ``purge_folder`` job (``mcore.folders.purge``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, or_, update
from sqlmodel import SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import (
    ANONYMOUS,
    Action,
    Actor,
    Level,
    Role,
    refuse_delete,
    require_account,
    require_scope,
)
from mcore.access.objects import (
    Memberships,
    file_level,
    folder_level,
    memberships,
    require_level,
)
from mcore.clock import utcnow
from mcore.db import serialize_on
from mcore.errors import Conflict, Forbidden, Gone, Invalid, NotFound
from mcore.files.models import File, FileRead, to_read
from mcore.folders.models import Crumb, Folder, FolderCreate, FolderRead, FolderUpdate, Space
from mcore.folders.paths import SEP, ancestor_ids, child_path, moved_path, sibling_key
from mcore.ids import is_id, new_id
from mcore.pagination import check_limit, decode_cursor, encode_cursor, unknown_cursor
from mcore.settings import Settings
from mcore.sharing.models import Group

MAX_DEPTH = 64  # folders below a root, so a path stays a short indexable string
ROOT_NAMES = {Space.user: "My files", Space.group: "Group files", Space.system: "System"}

Sort = Literal["name", "-name", "created", "-created", "size", "-size"]
SORTS: tuple[str, ...] = ("name", "-name", "created", "-created", "size", "-size")


def _not_found(folder_id: str) -> NotFound:
    return NotFound(f"no folder with id {folder_id!r}")


def check_name(name: str) -> str:
    """A folder's name as stored: trimmed, NFC, one line, no separators; else ``Invalid``."""
    cleaned = unicodedata.normalize("NFC", name.strip())
    if not cleaned:
        raise Invalid("a folder needs a name", field="name")
    if any(c in cleaned for c in "/\\") or any(unicodedata.category(c)[0] == "C" for c in cleaned):
        raise Invalid("a folder's name cannot hold '/', '\\' or control characters", field="name")
    if cleaned in (".", ".."):
        raise Invalid("'.' and '..' are not folder names", field="name")
    return cleaned


def _root_scope(space: Space, holder: str) -> str:
    return f"root:{space.value}:{holder}"


async def _root(
    session: AsyncSession, *, space: Space, owner_id: str, group_id: str | None
) -> Folder:
    """The root of a space, made on first use (serialized, so two callers make one)."""
    holder = group_id or (owner_id if space is Space.user else "instance")
    scope = _root_scope(space, holder)
    query = select(Folder).where(
        col(Folder.sibling_scope) == scope,
        col(Folder.parent_id).is_(None),
        col(Folder.deleted_at).is_(None),
    )
    found = (await session.exec(query)).first()
    if found is not None:
        return found
    await serialize_on(session, scope)
    found = (await session.exec(query)).first()
    if found is not None:
        return found
    now = utcnow()
    folder_id = new_id()
    root = Folder(
        id=folder_id,
        name=ROOT_NAMES[space],
        name_key=sibling_key(ROOT_NAMES[space]),
        space=space,
        owner_id=owner_id,
        group_id=group_id,
        parent_id=None,
        path=child_path(None, folder_id),
        sibling_scope=scope,
        created_at=now,
        updated_at=now,
    )
    session.add(root)
    await session.flush()
    return root


async def user_root(session: AsyncSession, user_id: str) -> Folder:
    """An account's user root, made on first use."""
    return await _root(session, space=Space.user, owner_id=user_id, group_id=None)


async def system_root(session: AsyncSession) -> Folder:
    return await _root(session, space=Space.system, owner_id="system", group_id=None)


async def group_root(session: AsyncSession, group: Group) -> Folder:
    return await _root(session, space=Space.group, owner_id=group.owner_id, group_id=group.id)


async def crumbs(session: AsyncSession, folders: Sequence[Folder]) -> dict[str, list[Crumb]]:
    """Each folder's breadcrumbs, root first: one query for all of them."""
    ids = sorted({i for f in folders for i in ancestor_ids(f.path)})
    names: dict[str, str] = {}
    if ids:
        rows = await session.exec(select(Folder.id, Folder.name).where(col(Folder.id).in_(ids)))
        names = dict(rows.all())
    return {
        f.id: [Crumb(id=i, name=names.get(i, "")) for i in ancestor_ids(f.path)] for f in folders
    }


def folder_read(folder: Folder, path: list[Crumb], level: Level | None = None) -> FolderRead:
    return FolderRead(
        id=folder.id,
        name=folder.name,
        parent_id=folder.parent_id,
        space=folder.space,
        group_id=folder.group_id,
        owner_id=folder.owner_id,
        path=path,
        created_at=folder.created_at,
        updated_at=folder.updated_at,
        deleted_at=folder.deleted_at,
        access=None if level is None else level.name,
    )


async def read_folder(session: AsyncSession, folder: Folder, level: Level) -> FolderRead:
    return folder_read(folder, (await crumbs(session, [folder]))[folder.id], level)


async def get_folder(
    session: AsyncSession,
    *,
    actor: Actor,
    folder_id: str,
    trashed: bool = False,
    members: Memberships | None = None,
) -> tuple[Folder, Level]:
    """A folder the actor may see, and their level on it; ``NotFound`` for one they may not."""
    require_scope(actor, "files:read")
    folder = await session.get(Folder, folder_id) if is_id(folder_id) else None
    if folder is None:
        raise _not_found(folder_id)
    level = await folder_level(session, actor, folder, members=members)
    if level < Level.view:
        raise _not_found(folder_id)
    if folder.deleted_at is not None and not trashed:
        raise NotFound(f"folder {folder_id!r} is in the trash; restore it to use it")
    return folder, level


async def _group_for(session: AsyncSession, group_id: str | None) -> Group:
    group = await session.get(Group, group_id) if group_id and is_id(group_id) else None
    if group is None or group.deleted_at is not None:
        raise NotFound(f"no group with id {group_id!r}")
    return group


async def target_folder(
    session: AsyncSession,
    *,
    actor: Actor,
    folder_id: str | None,
    space: Space | None = None,
    group_id: str | None = None,
    upload: bool = False,
) -> Folder:
    """Where something new goes: the folder named, else the root of the space named (the
    caller's user root by default). Seed 000's checks in order, each with its own error:
    the folder exists, the space's entity (account or group) exists, then permission."""
    if folder_id is not None:
        folder = await session.get(Folder, folder_id) if is_id(folder_id) else None
        if folder is None or not await _may_name(session, actor, folder, upload=upload):
            raise _not_found(folder_id)
        if folder.deleted_at is not None:
            raise NotFound(f"folder {folder_id!r} is in the trash; restore it to use it")
        return folder
    if space is Space.group or (space is None and group_id is not None):
        group = await _group_for(session, group_id)
        return await group_root(session, group)
    if space is Space.system:
        members = await memberships(session, actor)
        if not members.staff:
            raise Forbidden(
                "only platform staff (admins, moderators, the staff group) may use the system space"
            )
        return await system_root(session)
    return await user_root(session, actor.id)


async def _may_name(session: AsyncSession, actor: Actor, folder: Folder, *, upload: bool) -> bool:
    """Whether ``folder`` exists for the actor: they may see it, or (``upload``) it is in a
    user's space and they are staff or support, who upload there without reading it."""
    members = await memberships(session, actor)
    level = await folder_level(session, actor, folder, members=members, scoped=not upload)
    if level >= Level.view:
        return True
    return upload and folder.space == Space.user and (members.staff or members.support)


async def may_upload_into(session: AsyncSession, *, actor: Actor, folder: Folder) -> None:
    """``Forbidden`` unless ``actor`` may add files to ``folder``: ``edit`` on it (their own
    space, a group role of member or more, staff in the system space, an ``edit`` share),
    or, in a user's space, platform staff and the ``support`` group, who upload for users."""
    require_scope(actor, "files:write")
    members = await memberships(session, actor)
    held = await folder_level(session, actor, folder, members=members, scoped=False)
    if held >= Level.edit:
        return
    if folder.space == Space.user and (members.staff or members.support):
        return
    where = {
        Space.user: "this user's space",
        Space.group: "this group's space",
        Space.system: "the system space",
    }[folder.space]
    raise Forbidden(
        f"you may {held.name} {where}; uploading into it needs edit"
        + (" (platform staff only)" if folder.space == Space.system else "")
    )


async def create_folder(session: AsyncSession, *, actor: Actor, data: FolderCreate) -> FolderRead:
    """A new folder under ``parent_id``, or under the root of ``space`` (the caller's user
    root by default). Needs ``edit`` on the parent; guests create nothing."""
    require_scope(actor, "files:write")
    if actor.role is Role.guest:
        raise Forbidden("guests cannot create folders; ask an admin for a user account")
    name = check_name(data.name)
    parent = await target_folder(
        session, actor=actor, folder_id=data.parent_id, space=data.space, group_id=data.group_id
    )
    held = await folder_level(session, actor, parent)
    require_level(held, Action.upload, what="folder")
    if len(ancestor_ids(parent.path)) > MAX_DEPTH:
        raise Invalid(f"folders nest at most {MAX_DEPTH} deep", field="parent_id")
    await serialize_on(session, f"folder:{parent.id}")
    await _check_free(session, parent.id, name)
    now = utcnow()
    folder_id = new_id()
    folder = Folder(
        id=folder_id,
        name=name,
        name_key=sibling_key(name),
        space=parent.space,
        owner_id=parent.owner_id if parent.space == Space.user else actor.id,
        group_id=parent.group_id,
        parent_id=parent.id,
        path=child_path(parent.path, folder_id),
        sibling_scope=parent.id,
        created_at=now,
        updated_at=now,
    )
    session.add(folder)
    await session.flush()
    return await read_folder(session, folder, max(held, Level.edit))


async def _check_free(
    session: AsyncSession, parent_id: str, name: str, *, but: str | None = None
) -> None:
    query = select(Folder.id).where(
        col(Folder.sibling_scope) == parent_id,
        col(Folder.name_key) == sibling_key(name),
        col(Folder.deleted_at).is_(None),
    )
    if but is not None:
        query = query.where(col(Folder.id) != but)
    if (await session.exec(query)).first() is not None:
        raise Conflict(f"this folder already holds a folder named {name!r}", field="name")


async def list_roots(session: AsyncSession, *, actor: Actor) -> list[FolderRead]:
    """The roots the caller has: their user root, their groups' roots, the system root
    for platform staff."""
    require_account(actor)
    require_scope(actor, "files:read")
    members = await memberships(session, actor)
    roots: list[Folder] = []
    if actor.id != ANONYMOUS.id:
        roots.append(await user_root(session, actor.id))
    if members.groups:
        groups = await session.exec(
            select(Group).where(
                col(Group.id).in_(sorted(members.groups)),
                col(Group.deleted_at).is_(None),
                col(Group.system).is_(None),
            )
        )
        for group in groups:
            roots.append(await group_root(session, group))
    if members.staff:
        roots.append(await system_root(session))
    paths = await crumbs(session, roots)
    out = []
    for folder in roots:
        level = await folder_level(session, actor, folder, members=members)
        out.append(folder_read(folder, paths[folder.id], level))
    return out


class ChildrenPage(SQLModel):
    """One page of a folder's contents: its sub-folders first (by name), then its files."""

    folder: FolderRead
    folders: list[FolderRead]
    files: list[FileRead]
    next: str | None


def _file_order(sort: str) -> tuple[Any, bool]:
    column = {"name": col(File.filename), "created": col(File.id), "size": col(File.size)}
    return column[sort.lstrip("-")], sort.startswith("-")


def _past(column: Any, value: Any, last_id: str, desc: bool) -> ColumnElement[bool]:
    if desc:
        return or_(column < value, and_(column == value, col(File.id) < last_id))
    return or_(column > value, and_(column == value, col(File.id) > last_id))


def files_in(folder: Folder) -> ColumnElement[bool]:
    """SQL on ``files``: live and in ``folder`` (a user root also holds its owner's files
    from before folders, which name no folder)."""
    inside = col(File.folder_id) == folder.id
    if folder.parent_id is None and folder.space == Space.user:
        inside = inside | (col(File.folder_id).is_(None) & (col(File.owner_id) == folder.owner_id))
    return col(File.deleted_at).is_(None) & inside


async def list_children(
    session: AsyncSession,
    *,
    actor: Actor,
    folder_id: str,
    cursor: str | None = None,
    limit: int = 50,
    sort: str = "name",
) -> ChildrenPage:
    """A folder's sub-folders and files, a page at a time. Whoever may see a folder sees
    everything in it (a share of a folder reaches all inside), so the page is cut by one
    indexed query with no filter per row."""
    check_limit(limit)
    if sort not in SORTS:
        raise Invalid(f"sort must be one of {', '.join(SORTS)}", field="sort")
    folder, level = await get_folder(session, actor=actor, folder_id=folder_id)
    state = decode_cursor(cursor)
    if state is not None and (state.get("s") != sort or state.get("p") not in ("d", "f")):
        raise unknown_cursor()
    subfolders: list[Folder] = []
    files: list[File] = []
    next_state: dict[str, Any] | None = None
    if state is None or state["p"] == "d":
        query = select(Folder).where(
            col(Folder.parent_id) == folder.id, col(Folder.deleted_at).is_(None)
        )
        if state is not None:
            key, last = state.get("k"), state.get("i")
            if not isinstance(key, str) or not isinstance(last, str):
                raise unknown_cursor()
            query = query.where(
                or_(
                    col(Folder.name_key) > key,
                    and_(col(Folder.name_key) == key, col(Folder.id) > last),
                )
            )
        rows = list(
            (
                await session.exec(
                    query.order_by(col(Folder.name_key), col(Folder.id)).limit(limit + 1)
                )
            ).all()
        )
        if len(rows) > limit:
            subfolders = rows[:limit]
            tail = subfolders[-1]
            next_state = {"s": sort, "p": "d", "k": tail.name_key, "i": tail.id}
        else:
            subfolders = rows
    if next_state is None and len(subfolders) == limit and (state is None or state["p"] == "d"):
        next_state = {"s": sort, "p": "f"}  # a full page of folders: files from the next one
    elif next_state is None:
        room = limit - len(subfolders)
        column, desc = _file_order(sort)
        fquery = select(File).where(files_in(folder))
        if state is not None and state["p"] == "f" and "i" in state:
            value, last = state.get("v"), state.get("i")
            if not isinstance(last, str) or not is_id(last):
                raise unknown_cursor()
            fquery = fquery.where(_past(column, value, last, desc))
        order = (column.desc(), col(File.id).desc()) if desc else (column, col(File.id))
        rows_f = list((await session.exec(fquery.order_by(*order).limit(room + 1))).all())
        if len(rows_f) > room:
            files = rows_f[:room]
            tail_f = files[-1]
            value = {"name": tail_f.filename, "created": tail_f.id, "size": tail_f.size}
            next_state = {"s": sort, "p": "f", "v": value[sort.lstrip("-")], "i": tail_f.id}
        else:
            files = rows_f
    paths = await crumbs(session, [folder, *subfolders])
    return ChildrenPage(
        folder=folder_read(folder, paths[folder.id], level),
        folders=[folder_read(f, paths[f.id], level) for f in subfolders],
        files=[to_read(f, actor_id=actor.id) for f in files],
        next=None if next_state is None else encode_cursor(next_state),
    )


async def update_folder(
    session: AsyncSession, *, actor: Actor, folder_id: str, data: FolderUpdate
) -> FolderRead:
    """Rename (``edit``) or move (``manage`` here and ``edit`` on the new parent, within
    the same space and never into itself). Everything inside moves with it: one UPDATE of
    the paths below, however deep."""
    folder, held = await get_folder(session, actor=actor, folder_id=folder_id)
    require_scope(actor, "files:write")
    if folder.parent_id is None:
        raise Forbidden("a space's root folder cannot be renamed or moved")
    await serialize_on(session, f"folder:{folder.id}")
    now = utcnow()
    parent_id = folder.parent_id
    if data.parent_id is not None and data.parent_id != folder.parent_id:
        require_level(held, Action.move, what="folder")
        parent = await target_folder(session, actor=actor, folder_id=data.parent_id)
        require_level(await folder_level(session, actor, parent), Action.upload, what="folder")
        if parent.space != folder.space or parent.group_id != folder.group_id:
            raise Invalid("a folder moves only within its own space", field="parent_id")
        if parent.path.startswith(folder.path):
            raise Invalid(
                "a folder cannot move into itself or a folder inside it", field="parent_id"
            )
        depth = len(ancestor_ids(parent.path)) + await _height(session, folder)
        if depth > MAX_DEPTH + 1:
            raise Invalid(f"folders nest at most {MAX_DEPTH} deep", field="parent_id")
        parent_id = parent.id
        old_prefix, new_prefix = folder.path, child_path(parent.path, folder.id)
        await session.exec(
            update(Folder)
            .where(col(Folder.path).startswith(old_prefix, autoescape=True))
            .values(path=new_prefix + func.substr(col(Folder.path), len(old_prefix) + 1))
            .execution_options(synchronize_session=False)
        )
        folder.path = moved_path(folder.path, old_prefix=old_prefix, new_prefix=new_prefix)
        folder.parent_id = parent_id
        folder.sibling_scope = parent_id
    name = folder.name
    if data.name is not None:
        require_level(held, Action.update, what="folder")
        name = check_name(data.name)
    if name != folder.name or parent_id != folder.sibling_scope or data.parent_id:
        await serialize_on(session, f"folder:{parent_id}")
        await _check_free(session, parent_id, name, but=folder.id)
    folder.name, folder.name_key = name, sibling_key(name)
    folder.updated_at = now
    session.add(folder)
    await session.flush()
    await session.refresh(folder)
    return await read_folder(session, folder, held)


async def _height(session: AsyncSession, folder: Folder) -> int:
    """How many levels the subtree under ``folder`` has, itself included."""
    longest = await session.scalar(
        select(func.max(func.length(col(Folder.path)))).where(
            col(Folder.path).startswith(folder.path, autoescape=True)
        )
    )
    per_level = len(folder.id) + len(SEP)
    return max(1, (int(longest or 0) - len(folder.path)) // per_level + 1)


async def subtree_ids(session: AsyncSession, folder: Folder, *, live: bool = True) -> list[str]:
    """The ids of ``folder`` and every folder under it: one query at any depth."""
    query = select(Folder.id).where(col(Folder.path).startswith(folder.path, autoescape=True))
    if live:
        query = query.where(col(Folder.deleted_at).is_(None))
    return list((await session.exec(query)).all())


async def trash_folder(
    session: AsyncSession, *, actor: Actor, folder_id: str, settings: Settings
) -> tuple[FolderRead, datetime]:
    """Seed 000's step I, at once: check permission (``manage``), find every sub-folder,
    and take the folder, its sub-folders and the files in them out of view (the trash,
    restorable for ``trash_retention``). Returns the folder and when step II (the purge of
    what is inside, ``mcore.folders.purge``) may run."""
    folder, held = await get_folder(session, actor=actor, folder_id=folder_id)
    require_scope(actor, "files:write")
    if folder.parent_id is None:
        raise Forbidden("a space's root folder cannot be deleted")
    require_level(held, Action.delete, what="folder")
    refuse_delete(settings.undeletable, "folders")
    await serialize_on(session, f"folder:{folder.id}")
    now = utcnow()
    ids = await subtree_ids(session, folder)
    for chunk in _chunks(ids):
        await session.exec(
            update(Folder)
            .where(col(Folder.id).in_(chunk))
            .values(deleted_at=now, deleted_with=folder.id, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        await session.exec(
            update(File)
            .where(col(File.folder_id).in_(chunk), col(File.deleted_at).is_(None))
            .values(deleted_at=now, deleted_with=folder.id, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    await session.refresh(folder)
    return await read_folder(session, folder, held), now + settings.trash_retention


def _chunks(ids: list[str], size: int = 500) -> list[list[str]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)] or [[]]


async def restore_folder(
    session: AsyncSession, *, actor: Actor, folder_id: str, settings: Settings
) -> FolderRead:
    """Bring a trashed folder back, with the sub-folders and files its delete took, within
    ``trash_retention``; its name must still be free among its siblings."""
    folder, held = await get_folder(session, actor=actor, folder_id=folder_id, trashed=True)
    require_scope(actor, "files:write")
    require_level(held, Action.restore, what="folder")
    if folder.deleted_at is None:
        return await read_folder(session, folder, held)
    if folder.deleted_with != folder.id:
        raise Conflict(
            "this folder went to the trash with a folder above it; restore that one",
            folder_id=folder.deleted_with,
        )
    if folder.deleted_at + settings.trash_retention < utcnow():
        raise Gone(f"folder {folder_id!r} was deleted too long ago to restore")
    parent = await session.get(Folder, folder.parent_id) if folder.parent_id else None
    if parent is not None and parent.deleted_at is not None:
        raise Conflict("the folder it was in is in the trash; restore that one first")
    await serialize_on(session, f"folder:{folder.parent_id}")
    await _check_free(session, folder.sibling_scope, folder.name, but=folder.id)
    now = utcnow()
    await session.exec(
        update(Folder)
        .where(col(Folder.deleted_with) == folder.id)
        .values(deleted_at=None, deleted_with=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.exec(
        update(File)
        .where(col(File.deleted_with) == folder.id)
        .values(deleted_at=None, deleted_with=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(folder)
    return await read_folder(session, folder, held)


async def move_file(session: AsyncSession, *, actor: Actor, file: File, folder_id: str) -> None:
    """Move a file the actor may ``manage`` into a folder they may add files to."""
    held = await file_level(session, actor, file)
    require_level(held, Action.move, what="file")
    target = await target_folder(session, actor=actor, folder_id=folder_id)
    await may_upload_into(session, actor=actor, folder=target)
    file.folder_id = target.id


async def trashed_children(
    session: AsyncSession, *, actor: Actor, folder_id: str, limit: int = 50
) -> list[FolderRead]:
    """The folders deleted straight from this one (each the top of its own delete), newest
    first: what a restore can bring back here. Needs ``manage`` on the folder, as a
    restore does."""
    folder, level = await get_folder(session, actor=actor, folder_id=folder_id)
    if level < Level.manage:
        return []
    rows = await session.exec(
        select(Folder)
        .where(
            col(Folder.parent_id) == folder.id,
            col(Folder.deleted_at).is_not(None),
            col(Folder.deleted_with) == col(Folder.id),
        )
        .order_by(col(Folder.deleted_at).desc(), col(Folder.id))
        .limit(limit)
    )
    found = list(rows.all())
    paths = await crumbs(session, found)
    return [folder_read(f, paths[f.id], level) for f in found]
