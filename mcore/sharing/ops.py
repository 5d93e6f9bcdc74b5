"""Group and share ops: groups with members and roles; shares of files, folders and
records with accounts and groups at a level, with expiry and revocation. Each share, its
revocation and a change of its level reach the recipients' events sockets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from pydantic import field_validator, model_validator
from sqlmodel import SQLModel, col, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import SHARE_LEVELS, Action, Actor, Level, Role, require_account, require_scope
from mcore.access.objects import (
    file_level,
    folder_level,
    live_shares_to,
    memberships,
    record_level,
    require_level,
)
from mcore.auth.models import User
from mcore.clock import utcnow
from mcore.db import serialize_on
from mcore.errors import Conflict, Forbidden, Invalid, NotFound
from mcore.events import EventType, publish
from mcore.files.models import File
from mcore.folders.models import Folder
from mcore.folders.ops import group_root
from mcore.folders.paths import sibling_key
from mcore.ids import is_id, new_id
from mcore.pagination import check_limit, page_by_id
from mcore.records.models import Record
from mcore.sharing.models import (
    GROUP_NAME_MAX,
    SYSTEM_GROUPS,
    Group,
    GroupMember,
    GroupRole,
    ObjectType,
    Share,
)

LevelName = Literal["view", "edit", "manage"]


# -- groups --------------------------------------------------------------------------------


class GroupCreate(SQLModel):
    name: str


class GroupRead(SQLModel):
    id: str
    name: str
    owner_id: str
    system: str | None
    root_id: str | None
    created_at: datetime
    role: GroupRole | None = None  # the caller's role in it


class GroupMemberAdd(SQLModel):
    """Invite by id, username or email (one of them)."""

    user_id: str | None = None
    username: str | None = None
    email: str | None = None
    role: GroupRole = GroupRole.member

    @model_validator(mode="after")
    def _one_of(self) -> GroupMemberAdd:
        given = [v for v in (self.user_id, self.username, self.email) if v]
        if len(given) != 1:
            raise ValueError("give exactly one of user_id, username or email")
        return self


class GroupMemberUpdate(SQLModel):
    role: GroupRole


class GroupMemberRead(SQLModel):
    user_id: str
    username: str
    role: GroupRole
    created_at: datetime


def group_read(group: Group, role: GroupRole | None = None) -> GroupRead:
    return GroupRead(
        id=group.id,
        name=group.name,
        owner_id=group.owner_id,
        system=group.system,
        root_id=group.root_id,
        created_at=group.created_at,
        role=role,
    )


def _group_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise Invalid("a group needs a name", field="name")
    if len(cleaned) > GROUP_NAME_MAX:
        raise Invalid(f"a group's name is at most {GROUP_NAME_MAX} characters", field="name")
    return cleaned


async def _new_group(
    session: AsyncSession, *, name: str, owner_id: str, system: str | None = None
) -> Group:
    key = sibling_key(name)
    await serialize_on(session, f"group-name:{key}")
    taken = await session.exec(select(Group.id).where(col(Group.name_key) == key))
    if taken.first() is not None:
        raise Conflict(f"a group named {name!r} exists already", field="name")
    now = utcnow()
    group = Group(
        id=new_id(), name=name, name_key=key, owner_id=owner_id, system=system, created_at=now
    )
    session.add(group)
    session.add(
        GroupMember(
            group_id=group.id,
            user_id=owner_id,
            role=GroupRole.owner,
            added_by=owner_id,
            created_at=now,
        )
    )
    await session.flush()
    if system is None:
        group.root_id = (await group_root(session, group)).id
        session.add(group)
        await session.flush()
    return group


async def create_group(session: AsyncSession, *, actor: Actor, data: GroupCreate) -> GroupRead:
    """A group owned by the caller, with its own root folder; guests make none."""
    require_scope(actor, "files:write")
    if actor.role is Role.guest:
        raise Forbidden("guests cannot create groups; ask an admin for a user account")
    group = await _new_group(session, name=_group_name(data.name), owner_id=actor.id)
    return group_read(group, GroupRole.owner)


async def system_group(session: AsyncSession, name: str) -> Group:
    """The platform's ``staff`` or ``support`` group, made on first use (owned by the
    instance; admins manage its members)."""
    if name not in SYSTEM_GROUPS:
        raise NotFound(f"no system group {name!r}")
    found = (await session.exec(select(Group).where(col(Group.system) == name))).first()
    if found is not None:
        return found
    await serialize_on(session, f"group-system:{name}")
    found = (await session.exec(select(Group).where(col(Group.system) == name))).first()
    if found is not None:
        return found
    now = utcnow()
    group = Group(
        id=new_id(),
        name=f"platform {name}",
        name_key=sibling_key(f"platform {name}"),
        owner_id="system",
        system=name,
        created_at=now,
    )
    session.add(group)
    await session.flush()
    return group


async def list_system_groups(session: AsyncSession, *, actor: Actor) -> list[GroupRead]:
    """The platform's ``staff`` and ``support`` groups (admins only), made on first use."""
    require_scope(actor, "admin")
    if not actor.is_admin:
        raise Forbidden("only an admin manages the platform's system groups")
    return [group_read(await system_group(session, name)) for name in SYSTEM_GROUPS]


async def _role_in(session: AsyncSession, group_id: str, user_id: str) -> GroupRole | None:
    row = await session.get(GroupMember, (group_id, user_id))
    return None if row is None else GroupRole(row.role)


async def get_group(session: AsyncSession, *, actor: Actor, group_id: str) -> GroupRead:
    """A group the caller is in (any role), or any group for platform staff."""
    group, role = await _seen_group(session, actor, group_id)
    return group_read(group, role)


async def _seen_group(
    session: AsyncSession, actor: Actor, group_id: str
) -> tuple[Group, GroupRole | None]:
    require_scope(actor, "files:read")
    group = await session.get(Group, group_id) if is_id(group_id) else None
    if group is None or group.deleted_at is not None:
        raise NotFound(f"no group with id {group_id!r}")
    role = await _role_in(session, group.id, actor.id)
    if role is None and not (await memberships(session, actor)).staff:
        raise NotFound(f"no group with id {group_id!r}")
    return group, role


async def list_groups(session: AsyncSession, *, actor: Actor) -> list[GroupRead]:
    """The groups the caller is in, with their role in each."""
    require_account(actor)
    require_scope(actor, "files:read")
    rows = await session.exec(
        select(Group, GroupMember.role)
        .join(GroupMember, col(GroupMember.group_id) == col(Group.id))
        .where(col(GroupMember.user_id) == actor.id, col(Group.deleted_at).is_(None))
        .order_by(col(Group.name_key))
    )
    return [group_read(group, GroupRole(role)) for group, role in rows.all()]


async def _manages_members(session: AsyncSession, actor: Actor, group: Group) -> GroupRole | None:
    """``Forbidden`` unless the actor may change the members: the group's owner or staff;
    for the platform's system groups, an admin."""
    require_scope(actor, "files:write")
    role = await _role_in(session, group.id, actor.id)
    if group.system is not None:
        if not actor.is_admin:
            raise Forbidden("only an admin changes who is in the platform's system groups")
        return role
    if actor.is_admin or role in (GroupRole.owner, GroupRole.staff):
        return role
    raise Forbidden("only the group's owner or staff may change its members")


async def _find_user(session: AsyncSession, data: GroupMemberAdd) -> User:
    if data.user_id:
        user = await session.get(User, data.user_id) if is_id(data.user_id) else None
    elif data.username:
        query = select(User).where(col(User.username_key) == data.username.strip().casefold())
        user = (await session.exec(query)).first()
    else:
        query = select(User).where(col(User.email_key) == (data.email or "").strip().casefold())
        user = (await session.exec(query)).first()
    if user is None or user.disabled:
        raise NotFound("no account with that id, username or email")
    return user


async def list_members(
    session: AsyncSession, *, actor: Actor, group_id: str
) -> list[GroupMemberRead]:
    group, _ = await _seen_group(session, actor, group_id)
    rows = await session.exec(
        select(GroupMember, User.username)
        .join(User, col(User.id) == col(GroupMember.user_id))
        .where(col(GroupMember.group_id) == group.id)
        .order_by(col(User.username_key))
    )
    return [
        GroupMemberRead(
            user_id=m.user_id, username=name, role=GroupRole(m.role), created_at=m.created_at
        )
        for m, name in rows.all()
    ]


async def add_member(
    session: AsyncSession, *, actor: Actor, group_id: str, data: GroupMemberAdd
) -> GroupMemberRead:
    """Add an account to a group at a role (owner or staff of the group; an admin for the
    system groups). Only the owner (or an admin) makes someone else an owner."""
    group, _ = await _seen_group(session, actor, group_id)
    mine = await _manages_members(session, actor, group)
    if data.role is GroupRole.owner and not (actor.is_admin or mine is GroupRole.owner):
        raise Forbidden("only the group's owner may add another owner")
    user = await _find_user(session, data)
    await serialize_on(session, f"group:{group.id}")
    row = await session.get(GroupMember, (group.id, user.id))
    if row is not None:
        raise Conflict(f"{user.username} is in this group already (as {row.role})")
    row = GroupMember(
        group_id=group.id, user_id=user.id, role=data.role, added_by=actor.id, created_at=utcnow()
    )
    session.add(row)
    await session.flush()
    await publish(
        session,
        user_id=user.id,
        type=EventType.group_joined,
        payload={"group_id": group.id, "name": group.name, "role": data.role.value},
    )
    return GroupMemberRead(
        user_id=user.id, username=user.username, role=data.role, created_at=row.created_at
    )


async def update_member(
    session: AsyncSession, *, actor: Actor, group_id: str, user_id: str, data: GroupMemberUpdate
) -> GroupMemberRead:
    group, _ = await _seen_group(session, actor, group_id)
    mine = await _manages_members(session, actor, group)
    row = await session.get(GroupMember, (group.id, user_id))
    if row is None:
        raise NotFound("that account is not in this group")
    if (data.role is GroupRole.owner or row.role == GroupRole.owner) and not (
        actor.is_admin or mine is GroupRole.owner
    ):
        raise Forbidden("only the group's owner may make or unmake an owner")
    if row.role == GroupRole.owner and data.role is not GroupRole.owner:
        await _keep_an_owner(session, group.id, user_id)
    row.role = data.role
    session.add(row)
    await session.flush()
    user = await session.get(User, user_id)
    return GroupMemberRead(
        user_id=user_id,
        username=user.username if user else "",
        role=data.role,
        created_at=row.created_at,
    )


async def _keep_an_owner(session: AsyncSession, group_id: str, leaving: str) -> None:
    others = await session.scalar(
        select(func.count()).where(
            col(GroupMember.group_id) == group_id,
            col(GroupMember.role) == GroupRole.owner.value,
            col(GroupMember.user_id) != leaving,
        )
    )
    if not others:
        raise Conflict("a group keeps at least one owner: make someone else its owner first")


async def remove_member(
    session: AsyncSession, *, actor: Actor, group_id: str, user_id: str
) -> None:
    """Remove a member (owner or staff of the group), or leave (any member, for oneself).
    What the member had through the group ends at once."""
    group, _ = await _seen_group(session, actor, group_id)
    row = await session.get(GroupMember, (group.id, user_id))
    if row is None:
        raise NotFound("that account is not in this group")
    if user_id != actor.id:
        mine = await _manages_members(session, actor, group)
        if row.role == GroupRole.owner and not (actor.is_admin or mine is GroupRole.owner):
            raise Forbidden("only the group's owner may remove an owner")
    if row.role == GroupRole.owner and group.system is None:
        await _keep_an_owner(session, group.id, user_id)
    await session.delete(row)
    await session.flush()
    await publish(
        session,
        user_id=user_id,
        type=EventType.group_left,
        payload={"group_id": group.id, "name": group.name},
    )


# -- shares --------------------------------------------------------------------------------


class ShareCreate(SQLModel):
    object_type: ObjectType
    object_id: str
    user_id: str | None = None
    username: str | None = None
    group_id: str | None = None
    level: LevelName = "view"
    expires_at: datetime | None = None

    @model_validator(mode="after")
    def _one_recipient(self) -> ShareCreate:
        given = [v for v in (self.user_id, self.username, self.group_id) if v]
        if len(given) != 1:
            raise ValueError("give exactly one recipient: user_id, username or group_id")
        return self

    @field_validator("expires_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("expires_at needs a time zone (end it with Z or +00:00)")
        return value


class ShareUpdate(SQLModel):
    level: LevelName | None = None
    expires_at: datetime | None = None


class ShareRead(SQLModel):
    id: str
    object_type: ObjectType
    object_id: str
    user_id: str | None
    group_id: str | None
    level: LevelName
    created_by: str
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    active: bool


class SharePage(SQLModel):
    items: list[ShareRead]
    next: str | None


def share_read(share: Share, *, now: datetime | None = None) -> ShareRead:
    now = now or utcnow()
    active = share.revoked_at is None and (share.expires_at is None or share.expires_at > now)
    return ShareRead(
        id=share.id,
        object_type=share.object_type,
        object_id=share.object_id,
        user_id=share.user_id,
        group_id=share.group_id,
        level=Level(share.level).name,  # type: ignore[arg-type]
        created_by=share.created_by,
        created_at=share.created_at,
        updated_at=share.updated_at,
        expires_at=share.expires_at,
        revoked_at=share.revoked_at,
        active=active,
    )


WHAT = {ObjectType.file: "file", ObjectType.folder: "folder", ObjectType.record: "record"}


async def object_level(
    session: AsyncSession, actor: Actor, kind: ObjectType, object_id: str
) -> Level:
    """The actor's level on a file, folder or record; ``NotFound`` for one they may not see."""
    missing = NotFound(f"no {WHAT[kind]} with id {object_id!r}")
    if kind is ObjectType.file:
        file = await session.get(File, object_id) if is_id(object_id) else None
        if file is None or file.deleted_at is not None:
            raise missing
        level = await file_level(session, actor, file)
    elif kind is ObjectType.folder:
        folder = await session.get(Folder, object_id) if is_id(object_id) else None
        if folder is None or folder.deleted_at is not None:
            raise missing
        level = await folder_level(session, actor, folder)
    else:
        record = await session.get(Record, object_id)
        if record is None or record.deleted_at is not None:
            raise missing
        level = await record_level(session, actor, record)
    if level < Level.view:
        raise missing
    return level


async def _recipients(session: AsyncSession, share: Share) -> list[str]:
    if share.user_id is not None:
        return [share.user_id]
    rows = await session.exec(
        select(GroupMember.user_id).where(col(GroupMember.group_id) == share.group_id)
    )
    return sorted(rows.all())


async def _announce(session: AsyncSession, share: Share, event: EventType) -> None:
    payload = {
        "share_id": share.id,
        "object_type": share.object_type,
        "object_id": share.object_id,
        "level": Level(share.level).name,
        "by": share.created_by,
        "expires_at": share.expires_at.isoformat() if share.expires_at else None,
    }
    for user_id in await _recipients(session, share):
        await publish(session, user_id=user_id, type=event, payload=payload)


async def create_share(session: AsyncSession, *, actor: Actor, data: ShareCreate) -> ShareRead:
    """Share an object the caller may ``manage`` (resharing included) with an account or a
    group, at most at the caller's own level. Sharing again with the same recipient
    changes the level and expiry of the live share instead of adding another."""
    held = await object_level(session, actor, data.object_type, data.object_id)
    write_scope = "records:write" if data.object_type is ObjectType.record else "files:write"
    require_scope(actor, write_scope)
    if actor.role is Role.guest:
        raise Forbidden("guests cannot share; ask an admin for a user account")
    require_level(held, Action.share, what=WHAT[data.object_type])
    level = Level[data.level]
    if level not in SHARE_LEVELS:
        raise Invalid("level is one of view, edit or manage", field="level")
    now = utcnow()
    if data.expires_at is not None and data.expires_at <= now:
        raise Invalid("expires_at is in the past", field="expires_at")
    user_id, group_id = None, None
    if data.group_id is not None:
        group = await session.get(Group, data.group_id) if is_id(data.group_id) else None
        if group is None or group.deleted_at is not None:
            raise NotFound(f"no group with id {data.group_id!r}")
        group_id = group.id
    else:
        user = await _find_user(
            session, GroupMemberAdd(user_id=data.user_id, username=data.username)
        )
        if user.id == actor.id:
            raise Invalid("you cannot share with yourself", field="user_id")
        user_id = user.id
    await serialize_on(session, f"share:{data.object_type}:{data.object_id}")
    existing = (
        await session.exec(
            select(Share).where(
                col(Share.object_type) == data.object_type.value,
                col(Share.object_id) == data.object_id,
                col(Share.user_id) == user_id if user_id else col(Share.group_id) == group_id,
                col(Share.revoked_at).is_(None),
            )
        )
    ).first()
    if existing is not None:
        existing.level = int(level)
        existing.expires_at = data.expires_at
        existing.updated_at = now
        session.add(existing)
        await session.flush()
        await _announce(session, existing, EventType.share_changed)
        return share_read(existing, now=now)
    share = Share(
        id=new_id(),
        object_type=data.object_type,
        object_id=data.object_id,
        user_id=user_id,
        group_id=group_id,
        level=int(level),
        created_by=actor.id,
        created_at=now,
        updated_at=now,
        expires_at=data.expires_at,
    )
    session.add(share)
    await session.flush()
    await _announce(session, share, EventType.share_granted)
    return share_read(share, now=now)


async def _managed_share(session: AsyncSession, actor: Actor, share_id: str) -> Share:
    """A share the actor may change: its maker, or whoever may ``manage`` the object."""
    share = await session.get(Share, share_id) if is_id(share_id) else None
    if share is None:
        raise NotFound(f"no share with id {share_id!r}")
    if share.created_by == actor.id or actor.is_admin:
        return share
    try:
        held = await object_level(session, actor, ObjectType(share.object_type), share.object_id)
    except NotFound:
        raise NotFound(f"no share with id {share_id!r}") from None
    require_level(held, Action.share, what=WHAT[ObjectType(share.object_type)])
    return share


async def get_share(session: AsyncSession, *, actor: Actor, share_id: str) -> ShareRead:
    """A share the caller made, received, or may manage."""
    share = await session.get(Share, share_id) if is_id(share_id) else None
    if share is not None and share.user_id == actor.id:
        return share_read(share)
    if (
        share is not None
        and share.group_id is not None
        and share.group_id in (await memberships(session, actor)).groups
    ):
        return share_read(share)
    return share_read(await _managed_share(session, actor, share_id))


async def update_share(
    session: AsyncSession, *, actor: Actor, share_id: str, data: ShareUpdate
) -> ShareRead:
    share = await _managed_share(session, actor, share_id)
    if share.revoked_at is not None:
        raise Conflict("this share was revoked; make a new one")
    now = utcnow()
    if data.level is not None:
        share.level = int(Level[data.level])
    if "expires_at" in data.model_fields_set:
        if data.expires_at is not None and data.expires_at <= now:
            raise Invalid("expires_at is in the past", field="expires_at")
        share.expires_at = data.expires_at
    share.updated_at = now
    session.add(share)
    await session.flush()
    await _announce(session, share, EventType.share_changed)
    return share_read(share, now=now)


async def revoke_share(session: AsyncSession, *, actor: Actor, share_id: str) -> ShareRead:
    """End a share at once (its row stays, as a record of who had what)."""
    share = await _managed_share(session, actor, share_id)
    if share.revoked_at is None:
        share.revoked_at = share.updated_at = utcnow()
        session.add(share)
        await session.flush()
        await _announce(session, share, EventType.share_revoked)
    return share_read(share)


async def list_shares(
    session: AsyncSession,
    *,
    actor: Actor,
    with_: Literal["me", "others"] = "me",
    object_type: ObjectType | None = None,
    object_id: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> SharePage:
    """``with=me``: the live shares the caller receives, directly or through a group
    ("shared with me"). ``with=others``: the shares the caller made, or, with
    ``object_id``, every share of an object they may manage. Newest first."""
    require_account(actor)
    require_scope(actor, "files:read")
    check_limit(limit)
    query = select(Share)
    if object_id is not None:
        if object_type is None:
            raise Invalid("object_type goes with object_id", field="object_type")
        held = await object_level(session, actor, object_type, object_id)
        query = query.where(
            col(Share.object_type) == object_type.value,
            col(Share.object_id) == object_id,
            col(Share.revoked_at).is_(None),
        )
        if held < Level.manage:
            query = query.where(live_shares_to(actor))
    elif with_ == "me":
        query = query.where(live_shares_to(actor))
    else:
        query = query.where(col(Share.created_by) == actor.id, col(Share.revoked_at).is_(None))
    if object_type is not None and object_id is None:
        query = query.where(col(Share.object_type) == object_type.value)
    rows, next_cursor = await page_by_id(session, query, col(Share.id), cursor=cursor, limit=limit)
    now = utcnow()
    return SharePage(items=[share_read(s, now=now) for s in rows], next=next_cursor)


async def revoke_all_of(session: AsyncSession, user_ids: Sequence[str]) -> int:
    """Revoke every live share made by or given to these accounts (an account's delete)."""
    now = utcnow()
    rows = (
        await session.exec(
            select(Share).where(
                col(Share.revoked_at).is_(None),
                or_(col(Share.created_by).in_(user_ids), col(Share.user_id).in_(user_ids)),
            )
        )
    ).all()
    for share in rows:
        share.revoked_at = share.updated_at = now
        session.add(share)
    await session.flush()
    return len(rows)
