"""Folder, group and share routes. Every decision is the ops' (``mcore.access``)."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody, PathParameter, QueryParameter

from api.deps import App, AppSettings, AuthService, CurrentActor, Session
from api.openapi import doc
from mcore.auth.models import SignedLink
from mcore.auth.ops.links import PublicShare, share_with_link
from mcore.folders import ops as folders
from mcore.folders import purge as step_two
from mcore.folders.models import FolderCreate, FolderRead, FolderUpdate
from mcore.jobs.models import JobRead
from mcore.jobs.ops import job_read
from mcore.sharing import ops as sharing
from mcore.sharing.models import ObjectType
from mcore.sharing.ops import (
    GroupCreate,
    GroupMemberAdd,
    GroupMemberRead,
    GroupMemberUpdate,
    GroupRead,
    ShareCreate,
    SharePage,
    ShareRead,
    ShareUpdate,
)

FolderId = Annotated[str, PathParameter(description="The folder's id")]
GroupId = Annotated[str, PathParameter(description="The group's id")]
UserId = Annotated[str, PathParameter(description="The member's account id")]
ShareId = Annotated[str, PathParameter(description="The share's id")]
Cursor = Annotated[str | None, QueryParameter(description="From the last page's `next`")]
Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Items per page")]


class FolderDeleted(FolderRead):
    """A folder in the trash, and the job that purges what is inside (step II)."""

    purge_job: JobRead


class FoldersController(Controller):
    path = "/api/v1/folders"
    tags = ["folders"]  # noqa: RUF012 (Litestar reads it as a class attribute)

    @post(
        "/",
        status_code=201,
        summary="Create a folder",
        opt=doc(
            "folders_create",
            403,
            404,
            409,
            request_examples=[
                {"name": "Proofs"},
                {"name": "2026", "parent_id": "01JF3Z8W5QK1V9X2B7C4D6E8F0"},
                {"name": "Logos", "space": "system"},
            ],
        ),
        description="Under `parent_id`, or at the root of `space` (`group` with `group_id`;"
        " `system` for platform staff); without either, in your own space. Names are unique"
        " among siblings, case-insensitively (409).",
    )
    async def create_folder(
        self, session: Session, actor: CurrentActor, data: JSONBody[FolderCreate]
    ) -> FolderRead:
        return await folders.create_folder(session, actor=actor, data=data)

    @get("/", summary="Your root folders", opt=doc("folders_roots"))
    async def roots(self, app_state: App, actor: CurrentActor) -> list[FolderRead]:
        """Your own space's root, the roots of your groups, and the system root for staff.
        Each root is made on first use."""
        async with app_state.db.session(write=True) as session:
            return await folders.list_roots(session, actor=actor)

    @get("/{folder_id:str}", summary="Read a folder", opt=doc("folders_get", guests=True))
    async def get_folder(
        self, session: Session, actor: CurrentActor, folder_id: FolderId
    ) -> FolderRead:
        """A folder with its breadcrumbs (`path`, root first) and your `access` to it."""
        folder, level = await folders.get_folder(session, actor=actor, folder_id=folder_id)
        return await folders.read_folder(session, folder, level)

    @get(
        "/{folder_id:str}/children",
        summary="A folder's sub-folders and files",
        opt=doc("folders_children", guests=True),
    )
    async def children(
        self,
        session: Session,
        actor: CurrentActor,
        folder_id: FolderId,
        cursor: Cursor = None,
        limit: Limit = 50,
        sort: Annotated[
            Literal["name", "-name", "created", "-created", "size", "-size"],
            QueryParameter(description="How files are ordered (folders always by name)"),
        ] = "name",
    ) -> folders.ChildrenPage:
        """Sub-folders first, by name, then files in `sort` order, a page at a time."""
        return await folders.list_children(
            session, actor=actor, folder_id=folder_id, cursor=cursor, limit=limit, sort=sort
        )

    @patch(
        "/{folder_id:str}",
        summary="Rename or move a folder",
        opt=doc("folders_update", 409, request_examples=[{"name": "Final proofs"}]),
    )
    async def update(
        self,
        session: Session,
        actor: CurrentActor,
        folder_id: FolderId,
        data: JSONBody[FolderUpdate],
    ) -> FolderRead:
        """Renaming needs `edit`; moving (a new `parent_id`, in the same space) needs
        `manage` here and `edit` there. Everything inside moves with it."""
        return await folders.update_folder(session, actor=actor, folder_id=folder_id, data=data)

    @delete(
        "/{folder_id:str}",
        status_code=200,
        summary="Delete a folder",
        opt=doc("folders_delete"),
    )
    async def delete_folder(
        self,
        session: Session,
        actor: CurrentActor,
        settings: AppSettings,
        folder_id: FolderId,
        purge: Annotated[
            bool,
            QueryParameter(
                description="Purge what is inside as soon as its processing ends, rather"
                " than when the trash retention does (then it cannot be restored)"
            ),
        ] = False,
    ) -> FolderDeleted:
        """Step I at once: the folder, its sub-folders and their files leave view (the
        trash, restorable for `trash_retention`). Step II, the `purge_job`, removes the
        file records and releases their blobs to garbage collection (a blob something else
        still uses stays), with progress like any job."""
        read, job = await step_two.delete_folder(
            session, actor=actor, folder_id=folder_id, settings=settings, purge=purge
        )
        return FolderDeleted(**read.model_dump(), purge_job=job_read(job))

    @post(
        "/{folder_id:str}/restore",
        status_code=200,
        summary="Restore a folder from the trash",
        opt=doc("folders_restore", 409, 410),
    )
    async def restore(
        self, session: Session, actor: CurrentActor, settings: AppSettings, folder_id: FolderId
    ) -> FolderRead:
        """With everything its delete took; 410 once the retention is over, 409 when its
        name was taken meanwhile or it went with a folder above it."""
        return await folders.restore_folder(
            session, actor=actor, folder_id=folder_id, settings=settings
        )


class GroupsController(Controller):
    path = "/api/v1/groups"
    tags = ["groups"]  # noqa: RUF012 (Litestar reads it as a class attribute)

    @post(
        "/",
        status_code=201,
        summary="Create a group",
        opt=doc("groups_create", 403, 409, request_examples=[{"name": "Harbour Studio"}]),
    )
    async def create_group(
        self, session: Session, actor: CurrentActor, data: JSONBody[GroupCreate]
    ) -> GroupRead:
        """You become its owner; it gets its own root folder (`root_id`)."""
        return await sharing.create_group(session, actor=actor, data=data)

    @get("/", summary="Your groups", opt=doc("groups_list"))
    async def list_groups(self, session: Session, actor: CurrentActor) -> list[GroupRead]:
        """The groups you are in, with your `role` in each."""
        return await sharing.list_groups(session, actor=actor)

    @get("/{group_id:str}", summary="Read a group", opt=doc("groups_get"))
    async def get_group(
        self, session: Session, actor: CurrentActor, group_id: GroupId
    ) -> GroupRead:
        """For its members (and platform staff)."""
        return await sharing.get_group(session, actor=actor, group_id=group_id)

    @get("/{group_id:str}/members", summary="A group's members", opt=doc("groups_members"))
    async def members(
        self, session: Session, actor: CurrentActor, group_id: GroupId
    ) -> list[GroupMemberRead]:
        """Every member with their role, by username."""
        return await sharing.list_members(session, actor=actor, group_id=group_id)

    @post(
        "/{group_id:str}/members",
        status_code=201,
        summary="Add a member",
        opt=doc(
            "groups_add_member",
            403,
            409,
            request_examples=[{"username": "mika", "role": "member"}, {"email": "a@example.org"}],
        ),
    )
    async def add_member(
        self,
        session: Session,
        actor: CurrentActor,
        group_id: GroupId,
        data: JSONBody[GroupMemberAdd],
    ) -> GroupMemberRead:
        """By `user_id`, `username` or `email`, as `owner`, `staff` or `member` (the
        group's owner or staff; only an owner adds an owner)."""
        return await sharing.add_member(session, actor=actor, group_id=group_id, data=data)

    @patch(
        "/{group_id:str}/members/{user_id:str}",
        summary="Change a member's role",
        opt=doc("groups_update_member", 403, 409, request_examples=[{"role": "staff"}]),
    )
    async def update_member(
        self,
        session: Session,
        actor: CurrentActor,
        group_id: GroupId,
        user_id: UserId,
        data: JSONBody[GroupMemberUpdate],
    ) -> GroupMemberRead:
        """A group keeps at least one owner (409)."""
        return await sharing.update_member(
            session, actor=actor, group_id=group_id, user_id=user_id, data=data
        )

    @delete(
        "/{group_id:str}/members/{user_id:str}",
        status_code=204,
        summary="Remove a member, or leave",
        opt=doc("groups_remove_member", 403, 409),
    )
    async def remove_member(
        self, session: Session, actor: CurrentActor, group_id: GroupId, user_id: UserId
    ) -> None:
        """Your own id leaves the group; others' need its owner or staff. What the member
        had through the group ends at once."""
        await sharing.remove_member(session, actor=actor, group_id=group_id, user_id=user_id)


class SharesController(Controller):
    path = "/api/v1/shares"
    tags = ["shares"]  # noqa: RUF012 (Litestar reads it as a class attribute)

    @post(
        "/",
        status_code=201,
        summary="Share a file, folder or record",
        opt=doc(
            "shares_create",
            403,
            404,
            request_examples=[
                {
                    "object_type": "folder",
                    "object_id": "01JF3Z8W5QK1V9X2B7C4D6E8F0",
                    "username": "client",
                    "level": "view",
                    "expires_at": "2027-01-31T00:00:00Z",
                },
                {
                    "object_type": "file",
                    "object_id": "01JF3Z8W5QK1V9X2B7C4D6E8F1",
                    "group_id": "01JF3Z8W5QK1V9X2B7C4D6E8F2",
                    "level": "edit",
                },
            ],
        ),
        description="With one account (`user_id` or `username`) or one group (`group_id`),"
        " at `view` (see, download, previews), `edit` (also change metadata, add files to a"
        " shared folder, new versions of a record) or `manage` (also delete, move, reshare);"
        " a folder's share reaches everything inside it, now and later. Needs `manage` on"
        " the object. Sharing again with the same recipient changes the live share. The"
        " recipients hear `share.granted` on their events socket.",
    )
    async def create_share(
        self, session: Session, actor: CurrentActor, data: JSONBody[ShareCreate]
    ) -> ShareRead:
        return await sharing.create_share(session, actor=actor, data=data)

    @post(
        "/link",
        status_code=201,
        summary="Share a file with anyone who has the link",
        opt=doc(
            "shares_link",
            403,
            404,
            request_examples=[
                {"file_id": "01JF3Z8W5QK1V9X2B7C4D6E8F0", "expires_at": "2027-01-31T00:00:00Z"}
            ],
        ),
    )
    async def share_link(
        self,
        session: Session,
        auth: AuthService,
        actor: CurrentActor,
        data: JSONBody[PublicShare],
    ) -> SignedLink:
        """Needs `manage` on the file, as any share does; the answer is a signed link to its
        content that works with no account until `expires_at` (default `link_ttl`, at
        most `link_max_ttl`), while the file stays readable to you and the session or key
        you made it with lasts."""
        return await share_with_link(session, auth=auth, actor=actor, data=data)

    @get("/", summary="List shares", opt=doc("shares_list", 404))
    async def list_shares(
        self,
        session: Session,
        actor: CurrentActor,
        with_: Annotated[
            Literal["me", "others"],
            QueryParameter(
                name="with",
                description="`me`: shared with you (directly or through a group);"
                " `others`: the shares you made",
            ),
        ] = "me",
        object_type: Annotated[
            ObjectType | None, QueryParameter(description="Only shares of this kind of object")
        ] = None,
        object_id: Annotated[
            str | None,
            QueryParameter(description="Only the shares of this object (with `object_type`)"),
        ] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> SharePage:
        """Live shares, newest first. With `object_id`, every share of an object you may
        manage (else only yours of it)."""
        return await sharing.list_shares(
            session,
            actor=actor,
            with_=with_,
            object_type=object_type,
            object_id=object_id,
            cursor=cursor,
            limit=limit,
        )

    @get("/{share_id:str}", summary="Read a share", opt=doc("shares_get"))
    async def get_share(
        self, session: Session, actor: CurrentActor, share_id: ShareId
    ) -> ShareRead:
        """One you made, received, or may manage."""
        return await sharing.get_share(session, actor=actor, share_id=share_id)

    @patch(
        "/{share_id:str}",
        summary="Change a share's level or expiry",
        opt=doc("shares_update", 403, 409, request_examples=[{"level": "edit"}]),
    )
    async def update(
        self, session: Session, actor: CurrentActor, share_id: ShareId, data: JSONBody[ShareUpdate]
    ) -> ShareRead:
        """The recipients hear `share.changed`."""
        return await sharing.update_share(session, actor=actor, share_id=share_id, data=data)

    @delete(
        "/{share_id:str}", status_code=200, summary="Revoke a share", opt=doc("shares_revoke", 403)
    )
    async def revoke(self, session: Session, actor: CurrentActor, share_id: ShareId) -> ShareRead:
        """At once, on every path (the fast read path's grants included); the recipients
        hear `share.revoked`."""
        return await sharing.revoke_share(session, actor=actor, share_id=share_id)


class SystemGroupsController(Controller):
    path = "/api/v1/admin/system-groups"
    tags = ["groups"]  # noqa: RUF012 (Litestar reads it as a class attribute)

    @get("/", summary="The platform's system groups (admin)", opt=doc("groups_system"))
    async def system_groups(self, app_state: App, actor: CurrentActor) -> list[GroupRead]:
        """`staff` (platform staff, like moderators: the system space, uploads for users)
        and `support` (may upload into users' spaces to help them); add and remove their
        members with the group member routes. Made on first use."""
        async with app_state.db.session(write=True) as session:
            return await sharing.list_system_groups(session, actor=actor)
