"""Groups: the groups a person is in, making one, and a group's page with its members and
their roles, adding by username or email, changing a role, removing, and leaving. Every
form is plain; the ops decide who may do what."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import PathParameter, QueryParameter
from litestar.response import Redirect
from pydantic import ValidationError

from api.deps import App
from api.web.folders import refused
from api.web.render import page
from api.web.viewer import PageForm, PageViewer, require_account
from mcore.access import Actor
from mcore.errors import DomainError, Invalid
from mcore.sharing import ops as sharing
from mcore.sharing.models import GroupRole
from mcore.sharing.ops import GroupCreate, GroupMemberAdd, GroupMemberUpdate

ROLES = (
    ("member", "Member"),
    ("staff", "Staff: also adds and removes members"),
    ("owner", "Owner: everything"),
)
DONE = {
    "made": "The group was made; you are its owner.",
    "added": "The member was added.",
    "role": "The role was changed.",
    "removed": "The member was removed.",
    "left": "You left the group.",
}
GroupId = Annotated[str, PathParameter(description="The group's id", max_length=64)]
UserId = Annotated[str, PathParameter(description="The member's id", max_length=64)]
Done = Annotated[str | None, QueryParameter(max_length=32)]


def _role(text: str) -> GroupRole:
    try:
        return GroupRole(text or "member")
    except ValueError:
        raise Invalid("choose a role from the list", field="role") from None


class GroupPages(Controller):
    path = "/groups"

    async def _list(
        self,
        request: Request[Any, Any, Any],
        app: Any,
        viewer: PageViewer,
        actor: Actor,
        *,
        status: int = 200,
        error: DomainError | None = None,
        done: str | None = None,
        name: str = "",
    ) -> Response[Any]:
        async with app.db.session() as session:
            groups = await sharing.list_groups(session, actor=actor)
        context = {
            "viewer": viewer,
            "groups": groups,
            "error": error,
            "done": DONE.get(done or ""),
            "name": name,
        }
        return page(request, "groups.html", context, status=status, cookies=viewer.cookies)

    @get("/")
    async def index(
        self, request: Request[Any, Any, Any], app_state: App, viewer: PageViewer, done: Done = None
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        return await self._list(request, app_state, viewer, actor, done=done)

    @post("/")
    async def create(
        self, request: Request[Any, Any, Any], app_state: App, viewer: PageViewer, form: PageForm
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        try:
            data = GroupCreate(name=form.text("name"))
            async with app_state.db.session(write=True) as session:
                made = await sharing.create_group(session, actor=actor, data=data)
        except (DomainError, ValidationError) as exc:
            error, status = refused(exc)
            return await self._list(
                request,
                app_state,
                viewer,
                actor,
                status=status,
                error=error,
                name=form.text("name"),
            )
        return Redirect(f"/groups/{made.id}?done=made", status_code=303)

    async def _group(
        self,
        request: Request[Any, Any, Any],
        app: Any,
        viewer: PageViewer,
        actor: Actor,
        group_id: str,
        *,
        status: int = 200,
        error: DomainError | None = None,
        section: str | None = None,
        done: str | None = None,
        values: dict[str, str] | None = None,
    ) -> Response[Any]:
        async with app.db.session() as session:
            group = await sharing.get_group(session, actor=actor, group_id=group_id)
            members = await sharing.list_members(session, actor=actor, group_id=group_id)
        mine = next((m for m in members if m.user_id == actor.id), None)
        context = {
            "viewer": viewer,
            "group": group,
            "members": members,
            "me": actor.id,
            "manages": actor.is_admin
            or (mine is not None and mine.role in (GroupRole.owner, GroupRole.staff)),
            "is_member": mine is not None,
            "roles": ROLES,
            "error": error,
            "section": section,
            "done": DONE.get(done or ""),
            "values": values or {},
        }
        return page(request, "group.html", context, status=status, cookies=viewer.cookies)

    @get("/{group_id:str}")
    async def show(
        self,
        request: Request[Any, Any, Any],
        app_state: App,
        viewer: PageViewer,
        group_id: GroupId,
        done: Done = None,
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        return await self._group(request, app_state, viewer, actor, group_id, done=done)

    @post("/{group_id:str}/members")
    async def add(
        self,
        request: Request[Any, Any, Any],
        app_state: App,
        viewer: PageViewer,
        form: PageForm,
        group_id: GroupId,
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        values = {"who": form.text("who"), "role": form.text("role")}
        try:
            who = values["who"].strip()
            if not who:
                raise Invalid("give the username or email of who to add", field="who")
            role = _role(values["role"])
            data = (
                GroupMemberAdd(email=who, role=role)
                if "@" in who
                else GroupMemberAdd(username=who, role=role)
            )
            async with app_state.db.session(write=True) as session:
                await sharing.add_member(session, actor=actor, group_id=group_id, data=data)
        except (DomainError, ValidationError) as exc:
            error, status = refused(exc)
            return await self._group(
                request,
                app_state,
                viewer,
                actor,
                group_id,
                status=status,
                error=error,
                section="add",
                values=values,
            )
        return Redirect(f"/groups/{group_id}?done=added", status_code=303)

    @post("/{group_id:str}/members/{user_id:str}/role")
    async def change_role(
        self,
        request: Request[Any, Any, Any],
        app_state: App,
        viewer: PageViewer,
        form: PageForm,
        group_id: GroupId,
        user_id: UserId,
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        try:
            data = GroupMemberUpdate(role=_role(form.text("role")))
            async with app_state.db.session(write=True) as session:
                await sharing.update_member(
                    session, actor=actor, group_id=group_id, user_id=user_id, data=data
                )
        except (DomainError, ValidationError) as exc:
            error, status = refused(exc)
            return await self._group(
                request,
                app_state,
                viewer,
                actor,
                group_id,
                status=status,
                error=error,
                section="members",
            )
        return Redirect(f"/groups/{group_id}?done=role", status_code=303)

    @post("/{group_id:str}/members/{user_id:str}/remove")
    async def remove(
        self,
        request: Request[Any, Any, Any],
        app_state: App,
        viewer: PageViewer,
        form: PageForm,
        group_id: GroupId,
        user_id: UserId,
    ) -> Response[Any]:
        """Remove a member; your own id leaves the group."""
        actor = require_account(request, viewer)
        try:
            async with app_state.db.session(write=True) as session:
                await sharing.remove_member(
                    session, actor=actor, group_id=group_id, user_id=user_id
                )
        except DomainError as exc:
            error, status = refused(exc)
            return await self._group(
                request,
                app_state,
                viewer,
                actor,
                group_id,
                status=status,
                error=error,
                section="members",
            )
        if user_id == actor.id:
            return Redirect("/groups?done=left", status_code=303)
        return Redirect(f"/groups/{group_id}?done=removed", status_code=303)
