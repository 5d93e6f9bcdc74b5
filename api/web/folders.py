"""Folders: the roots a person has, and one folder's page with breadcrumbs, a tree of its
space, its sub-folders and files, and plain forms to make, rename, move, delete and
restore folders. ``static/folders.js`` adds uploads into the folder, the tree's lazy
branches and moving by drag and drop, all through the same API routes as every client.

A change that works answers with a redirect back and a fixed message (``?done=``); one
that is refused shows the folder again with the reason, and the API's status code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import PathParameter, QueryParameter
from litestar.response import Redirect
from pydantic import ValidationError

from api.deps import App
from api.errors import status_and_title
from api.web.render import page
from api.web.signin import _invalid
from api.web.viewer import PageForm, PageViewer, require_account
from mcore.access import Actor
from mcore.errors import DomainError, Invalid, NotFound
from mcore.files import ops as files
from mcore.files.models import FileUpdate
from mcore.folders import ops as folders
from mcore.folders import purge
from mcore.folders.models import Crumb, FolderCreate, FolderRead, FolderUpdate
from mcore.sharing import ops as sharing

PAGE_SIZE = 48
TREE_BRANCH = 200  # sub-folders shown under one tree node; more are a link away
THUMB = "preview-256"
LEVELS = {"view": 1, "edit": 2, "manage": 3, "own": 4}
DONE = {
    "made": "The folder was made.",
    "renamed": "The folder was renamed.",
    "moved": "Moved.",
    "trashed": "The folder went to the trash, with everything in it.",
    "restored": "The folder is back, with everything its delete took.",
}
FolderId = Annotated[str, PathParameter(description="The folder's id", max_length=64)]


@dataclass
class Branch:
    """A node of the folder tree: its sub-folders when they were loaded (``None``: not yet,
    the page's script loads them when it is opened)."""

    id: str
    name: str
    current: bool = False
    children: list[Branch] | None = None
    more: bool = False


def may(access: str | None, needed: str) -> bool:
    return LEVELS.get(access or "", 0) >= LEVELS[needed]


def refused(exc: DomainError | ValidationError) -> tuple[DomainError, int]:
    error = _invalid(exc) if isinstance(exc, ValidationError) else exc
    return error, status_and_title(error)[0]


async def _visible_top(session: Any, actor: Actor, path: list[Crumb]) -> int:
    """The index of the highest folder on ``path`` the actor may open (someone who has a
    shared folder may not see the folders above it)."""
    for index, crumb in enumerate(path):
        try:
            await folders.get_folder(session, actor=actor, folder_id=crumb.id)
        except NotFound:
            continue
        return index
    return len(path) - 1


async def _tree(session: Any, actor: Actor, path: list[Crumb]) -> Branch:
    """The tree from ``path[0]`` down to ``path[-1]``, open along the way."""
    top = Branch(id=path[0].id, name=path[0].name)
    node = top
    for depth, crumb in enumerate(path):
        listed = await folders.list_children(
            session, actor=actor, folder_id=crumb.id, limit=TREE_BRANCH
        )
        node.children = [Branch(id=f.id, name=f.name) for f in listed.folders]
        node.more = listed.next is not None and len(listed.folders) == TREE_BRANCH
        if depth + 1 < len(path):
            following = path[depth + 1].id
            node = next((c for c in node.children if c.id == following), None) or Branch(
                id=following, name=path[depth + 1].name
            )
    node.current = True
    return top


async def space_title(session: Any, actor: Actor, folder: FolderRead) -> str:
    """What to call a folder's space: a group's name for a group's, else its root's."""
    if folder.space.value == "group" and folder.group_id:
        try:
            return (await sharing.get_group(session, actor=actor, group_id=folder.group_id)).name
        except DomainError:
            pass  # not a member (a share recipient): the root's own name
    return folder.path[0].name if folder.path else folder.name


class FolderPages(Controller):
    path = "/folders"

    @get("/")
    async def roots(
        self, request: Request[Any, Any, Any], app_state: App, viewer: PageViewer
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        async with app_state.db.session(write=True) as session:  # roots are made on first use
            roots = await folders.list_roots(session, actor=actor)
            groups = {g.root_id: g.name for g in await sharing.list_groups(session, actor=actor)}
        context = {
            "viewer": viewer,
            "roots": [(root, groups.get(root.id, root.name)) for root in roots],
        }
        return page(request, "folders.html", context, cookies=viewer.cookies)

    async def _page(
        self,
        request: Request[Any, Any, Any],
        app: Any,
        viewer: PageViewer,
        actor: Actor,
        folder_id: str,
        *,
        cursor: str | None = None,
        status: int = 200,
        error: DomainError | None = None,
        section: str | None = None,
        done: str | None = None,
    ) -> Response[Any]:
        async with app.db.session() as session:
            found = await folders.list_children(
                session, actor=actor, folder_id=folder_id, cursor=cursor, limit=PAGE_SIZE
            )
            folder = found.folder
            top = await _visible_top(session, actor, folder.path)
            path = folder.path[top:]
            tree = await _tree(session, actor, path)
            thumbs = await files.with_preview(session, files=found.files, name=THUMB)
            trash = (
                await folders.trashed_children(session, actor=actor, folder_id=folder.id)
                if may(folder.access, "manage")
                else []
            )
            title = await space_title(session, actor, folder)
        here = folder.id
        targets = [c for c in path if c.id != here] + [
            Crumb(id=f.id, name=f.name) for f in found.folders
        ]
        context = {
            "viewer": viewer,
            "folder": folder,
            "crumbs": path,
            "hidden_above": top > 0,
            "space_title": title,
            "tree": tree,
            "subfolders": found.folders,
            "files": found.files,
            "thumbs": thumbs,
            "next": found.next,
            "first_page": cursor is None,
            "targets": targets,
            "trash": trash,
            "can_edit": may(folder.access, "edit"),
            "can_manage": may(folder.access, "manage"),
            "is_root": folder.parent_id is None,
            "retention_days": app.settings.trash_retention.days,
            "error": error,
            "section": section,
            "done": DONE.get(done or ""),
        }
        return page(request, "folder.html", context, status=status, cookies=viewer.cookies)

    @get("/{folder_id:str}")
    async def show(
        self,
        request: Request[Any, Any, Any],
        app_state: App,
        viewer: PageViewer,
        folder_id: FolderId,
        cursor: Annotated[str | None, QueryParameter(max_length=512)] = None,
        done: Annotated[str | None, QueryParameter(max_length=32)] = None,
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        return await self._page(
            request, app_state, viewer, actor, folder_id, cursor=cursor, done=done
        )

    @post("/{folder_id:str}/folders")
    async def make(
        self,
        request: Request[Any, Any, Any],
        app_state: App,
        viewer: PageViewer,
        form: PageForm,
        folder_id: FolderId,
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        try:
            data = FolderCreate(name=form.text("name"), parent_id=folder_id)
            async with app_state.db.session(write=True) as session:
                made = await folders.create_folder(session, actor=actor, data=data)
        except (DomainError, ValidationError) as exc:
            error, status = refused(exc)
            return await self._page(
                request,
                app_state,
                viewer,
                actor,
                folder_id,
                status=status,
                error=error,
                section="new",
            )
        return Redirect(f"/folders/{made.id}?done=made", status_code=303)

    @post("/{folder_id:str}/rename")
    async def rename(
        self,
        request: Request[Any, Any, Any],
        app_state: App,
        viewer: PageViewer,
        form: PageForm,
        folder_id: FolderId,
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        try:
            data = FolderUpdate(name=form.text("name"))
            async with app_state.db.session(write=True) as session:
                await folders.update_folder(session, actor=actor, folder_id=folder_id, data=data)
        except (DomainError, ValidationError) as exc:
            error, status = refused(exc)
            return await self._page(
                request,
                app_state,
                viewer,
                actor,
                folder_id,
                status=status,
                error=error,
                section="rename",
            )
        return Redirect(f"/folders/{folder_id}?done=renamed", status_code=303)

    @post("/{folder_id:str}/move")
    async def move(
        self,
        request: Request[Any, Any, Any],
        app_state: App,
        viewer: PageViewer,
        form: PageForm,
        folder_id: FolderId,
    ) -> Response[Any]:
        """Move a file or sub-folder shown on this folder's page into ``target``: the
        keyboard's and a script-less browser's way to do what dragging does."""
        actor = require_account(request, viewer)
        kind, item, target = form.text("kind"), form.text("item"), form.text("target")
        try:
            if not target:
                raise Invalid("choose where to move it", field="target")
            async with app_state.db.session(write=True) as session:
                if kind == "file":
                    await files.update_file(
                        session, actor=actor, file_id=item, data=FileUpdate(folder_id=target)
                    )
                elif kind == "folder":
                    await folders.update_folder(
                        session, actor=actor, folder_id=item, data=FolderUpdate(parent_id=target)
                    )
                else:
                    raise Invalid("choose a file or a folder to move", field="kind")
        except (DomainError, ValidationError) as exc:
            error, status = refused(exc)
            return await self._page(
                request,
                app_state,
                viewer,
                actor,
                folder_id,
                status=status,
                error=error,
                section="items",
            )
        return Redirect(f"/folders/{folder_id}?done=moved", status_code=303)

    @post("/{folder_id:str}/delete")
    async def delete(
        self,
        request: Request[Any, Any, Any],
        app_state: App,
        viewer: PageViewer,
        form: PageForm,
        folder_id: FolderId,
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        try:
            async with app_state.db.session(write=True) as session:
                gone, _job = await purge.delete_folder(
                    session,
                    actor=actor,
                    folder_id=folder_id,
                    settings=app_state.settings,
                    purge=form.text("purge") == "now",
                )
        except DomainError as exc:
            error, status = refused(exc)
            return await self._page(
                request,
                app_state,
                viewer,
                actor,
                folder_id,
                status=status,
                error=error,
                section="delete",
            )
        return Redirect(f"/folders/{gone.parent_id}?done=trashed", status_code=303)

    @post("/{folder_id:str}/restore")
    async def restore(
        self,
        request: Request[Any, Any, Any],
        app_state: App,
        viewer: PageViewer,
        form: PageForm,
        folder_id: FolderId,
    ) -> Response[Any]:
        """Restore the trashed folder ``folder_id``; a refusal shows the folder it was in."""
        actor = require_account(request, viewer)
        back = form.text("back")
        try:
            async with app_state.db.session(write=True) as session:
                back_folder, _ = await folders.get_folder(
                    session, actor=actor, folder_id=folder_id, trashed=True
                )
                back = back_folder.parent_id or back
                await folders.restore_folder(
                    session, actor=actor, folder_id=folder_id, settings=app_state.settings
                )
        except DomainError as exc:
            error, status = refused(exc)
            if not back:
                raise
            return await self._page(
                request,
                app_state,
                viewer,
                actor,
                back,
                status=status,
                error=error,
                section="trash",
            )
        return Redirect(f"/folders/{folder_id}?done=restored", status_code=303)
