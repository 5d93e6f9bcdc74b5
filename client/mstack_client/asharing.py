# sync: """Folders, groups and shares of ``Client``: ``client.folders``, ``client.groups`` and
# sync: ``client.shares`` (``AsyncClient`` has the same, awaited)."""
"""Folders, groups and shares of ``AsyncClient``: ``client.folders``, ``client.groups`` and
``client.shares``, awaited.

Written once, here: ``python -m codegen`` writes the synchronous classes of ``Client``
(``_generated/sdk/sharing.py``) from this file, as it writes ``Client`` from
``aclient.py`` (``codegen/unasync.py``). Each class only builds its calls (``_api.py``)
and sends them through the client, so what it does is the same on both.

Where a folder, group or share is asked for, its id or the object read earlier will do.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Literal, cast

from mstack_client import _api
from mstack_client._core import AsyncCaller
from mstack_client.models import (
    ChildrenSort,
    FileInfo,
    Folder,
    FolderContents,
    FolderDeleted,
    Group,
    GroupMember,
    GroupRole,
    Level,
    ObjectType,
    Page,
    Share,
    Space,
)
from mstack_client.records import UNSET, Unset


def _id(ref: str | Folder | Group | GroupMember | Share) -> str:
    if isinstance(ref, str):
        return ref
    return ref.user_id if isinstance(ref, GroupMember) else ref.id


def _optional_id(ref: str | Folder | Group | None) -> str | None:
    return None if ref is None else _id(ref)


class AsyncFolders:
    # sync: """Folders on the server (``client.folders``)."""
    """Folders on the server (``client.folders``), awaited."""

    def __init__(self, client: AsyncCaller) -> None:
        self._client = client

    async def create(
        self,
        name: str,
        *,
        parent: str | Folder | None = None,
        space: Space | None = None,
        group: str | Group | None = None,
    ) -> Folder:
        """Make a folder under ``parent``, or at the root of ``space`` (``"group"`` with
        ``group``; ``"system"`` for platform staff), or else at your own root. Names are
        unique among siblings, ignoring case (``Conflict``)."""
        call = _api.create_folder(
            name, parent_id=_optional_id(parent), space=space, group_id=_optional_id(group)
        )
        return await self._client._call(call)

    async def roots(self) -> list[Folder]:
        """The roots you reach: your own, each of your groups', and the system's for staff."""
        return await self._client._call(_api.folder_roots())

    async def get(self, folder: str | Folder) -> Folder:
        """A folder with its breadcrumbs (``path``) and your ``access`` to it."""
        return await self._client._call(_api.get_folder(_id(folder)))

    async def children_page(
        self,
        folder: str | Folder,
        *,
        cursor: str | None = None,
        limit: int | None = None,
        sort: ChildrenSort | None = None,
    ) -> FolderContents:
        """One page of a folder's contents: sub-folders first (by name), then files in
        ``sort`` order; ``next`` is the cursor of the following page."""
        call = _api.folder_children(_id(folder), cursor=cursor, limit=limit, sort=sort)
        return await self._client._call(call)

    async def children(
        self, folder: str | Folder, *, sort: ChildrenSort | None = None, page_size: int = 200
    ) -> AsyncIterator[Folder | FileInfo]:
        """Everything directly in a folder, sub-folders first, page after page."""
        cursor: str | None = None
        while True:
            page = await self.children_page(folder, cursor=cursor, limit=page_size, sort=sort)
            for item in page:
                yield item
            if page.next is None:
                return
            cursor = page.next

    async def rename(self, folder: str | Folder, name: str) -> Folder:
        """Give a folder another name (needs ``edit``)."""
        return await self._client._call(_api.update_folder(_id(folder), name=name))

    async def move(self, folder: str | Folder, parent: str | Folder) -> Folder:
        """Move a folder, with everything inside it, under ``parent`` in the same space
        (needs ``manage`` on it and ``edit`` on ``parent``)."""
        return await self._client._call(_api.update_folder(_id(folder), parent_id=_id(parent)))

    async def delete(self, folder: str | Folder, *, purge: bool = False) -> FolderDeleted:
        """Move a folder, its sub-folders and their files to the trash at once; its
        ``purge_job`` then removes the files for good, when the trash retention ends, or
        with ``purge`` as soon as their processing has (no restore then). A blob that
        something else still uses is kept."""
        return await self._client._call(_api.delete_folder(_id(folder), purge=purge))

    async def restore(self, folder: str | Folder) -> Folder:
        """Bring a folder back from the trash with everything its delete took (``Gone``
        once the retention is over, ``Conflict`` if its name was taken meanwhile)."""
        return await self._client._call(_api.restore_folder(_id(folder)))


class AsyncGroups:
    # sync: """Groups and their members (``client.groups``)."""
    """Groups and their members (``client.groups``), awaited."""

    def __init__(self, client: AsyncCaller) -> None:
        self._client = client

    async def create(self, name: str) -> Group:
        """Make a group with you as its owner; it gets its own root folder (``root_id``)."""
        return await self._client._call(_api.create_group(name))

    async def list(self) -> builtins.list[Group]:
        """The groups you are in, with your ``role`` in each."""
        return await self._client._call(_api.list_groups())

    async def system(self) -> builtins.list[Group]:
        """The platform's own groups, ``staff`` and ``support`` (admins): add and remove
        their members as any group's."""
        return await self._client._call(_api.system_groups())

    async def get(self, group: str | Group) -> Group:
        return await self._client._call(_api.get_group(_id(group)))

    async def members(self, group: str | Group) -> builtins.list[GroupMember]:
        """Every member with their role."""
        return await self._client._call(_api.group_members(_id(group)))

    async def add_member(
        self,
        group: str | Group,
        *,
        user_id: str | None = None,
        username: str | None = None,
        email: str | None = None,
        role: GroupRole | None = None,
    ) -> GroupMember:
        """Add an account (by one of ``user_id``, ``username`` or ``email``) as a
        ``member`` unless ``role`` says otherwise (the group's owner or staff; only an
        owner adds an owner)."""
        call = _api.add_group_member(
            _id(group), user_id=user_id, username=username, email=email, role=role
        )
        return await self._client._call(call)

    async def update_member(
        self, group: str | Group, member: str | GroupMember, *, role: GroupRole
    ) -> GroupMember:
        """Give a member (by account id) another role; a group keeps at least one owner."""
        call = _api.update_group_member(_id(group), _id(member), role=role)
        return await self._client._call(call)

    async def remove_member(self, group: str | Group, member: str | GroupMember) -> None:
        """Take a member (by account id) out of a group: what they had through it ends."""
        await self._client._call(_api.remove_group_member(_id(group), _id(member)))

    async def leave(self, group: str | Group) -> None:
        """Leave a group yourself."""
        me = await self._client._call(_api.me())
        await self._client._call(_api.remove_group_member(_id(group), me.id))


class AsyncShares:
    # sync: """Shares of files, folders and records (``client.shares``)."""
    """Shares of files, folders and records (``client.shares``), awaited."""

    def __init__(self, client: AsyncCaller) -> None:
        self._client = client

    async def create(
        self,
        object_type: ObjectType,
        object_id: str,
        *,
        user_id: str | None = None,
        username: str | None = None,
        group_id: str | None = None,
        level: Level = "view",
        expires_at: datetime | None = None,
    ) -> Share:
        """Share a file, folder (and so everything in it, now and later) or record with
        one account (``user_id`` or ``username``) or one group (``group_id``) at
        ``level``, until ``expires_at`` (a time with a zone) if given. Needs ``manage``;
        sharing again with the same recipient changes the live share."""
        call = _api.create_share(
            object_type,
            object_id,
            user_id=user_id,
            username=username,
            group_id=group_id,
            level=level,
            expires_at=expires_at,
        )
        return await self._client._call(call)

    async def page(
        self,
        *,
        with_: Literal["me", "others"] = "me",
        object_type: ObjectType | None = None,
        object_id: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[Share]:
        """One page of live shares, newest first: ``with_="me"`` those you receive
        (directly or through a group), ``"others"`` those you made; with ``object_id``
        (and ``object_type``) the shares of one object."""
        call = _api.list_shares(
            with_=with_, object_type=object_type, object_id=object_id, cursor=cursor, limit=limit
        )
        return await self._client._call(call)

    async def list(
        self,
        *,
        with_: Literal["me", "others"] = "me",
        object_type: ObjectType | None = None,
        object_id: str | None = None,
        page_size: int = 200,
    ) -> AsyncIterator[Share]:
        """Every live share ``page`` would list, page after page."""
        cursor: str | None = None
        while True:
            page = await self.page(
                with_=with_,
                object_type=object_type,
                object_id=object_id,
                cursor=cursor,
                limit=page_size,
            )
            for item in page.items:
                yield item
            if page.next is None:
                return
            cursor = page.next

    async def get(self, share: str | Share) -> Share:
        """One share you made, received, or may manage."""
        return await self._client._call(_api.get_share(_id(share)))

    async def update(
        self,
        share: str | Share,
        *,
        level: Level | None = None,
        expires_at: datetime | Unset | None = UNSET,
    ) -> Share:
        """Change a share's level or its expiry (None: it never expires)."""
        changes: dict[str, object] = {}
        if level is not None:
            changes["level"] = level
        if not isinstance(expires_at, Unset):
            changes["expires_at"] = expires_at
        return await self._client._call(_api.update_share(_id(share), changes))

    async def revoke(self, share: str | Share) -> Share:
        """End a share at once, everywhere (its row stays, ``revoked_at`` set)."""
        return await self._client._call(_api.revoke_share(_id(share)))


class AsyncSharing:
    """``folders``, ``groups`` and ``shares`` as attributes of the client."""

    @property
    def folders(self) -> AsyncFolders:
        return AsyncFolders(cast(AsyncCaller, self))

    @property
    def groups(self) -> AsyncGroups:
        return AsyncGroups(cast(AsyncCaller, self))

    @property
    def shares(self) -> AsyncShares:
        return AsyncShares(cast(AsyncCaller, self))
