"""The file manager: the signed-in person's files as a grid of previews, one file's page,
and uploads with per-file progress and live processing status (``static/files.js``,
which calls the same upload route and event socket as every client)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.params import PathParameter, QueryParameter

from api.deps import Session
from api.web.render import page
from api.web.viewer import PageViewer, require_account
from mcore.files import ops
from mcore.files.models import to_read

PAGE_SIZE = 48
THUMB = "preview-256"
LARGE = "preview-1024"
FileId = Annotated[str, PathParameter(description="The file's id", max_length=64)]


class FilePages(Controller):
    path = "/files"

    @get("/")
    async def index(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        viewer: PageViewer,
        cursor: Annotated[str | None, QueryParameter(max_length=512)] = None,
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        found = await ops.list_files(
            session, actor=actor, mine=True, cursor=cursor, limit=PAGE_SIZE
        )
        context = {
            "viewer": viewer,
            "files": found.items,
            "next": found.next,
            "thumbs": await ops.with_preview(session, files=found.items, name=THUMB),
            "first_page": cursor is None,
        }
        return page(request, "files.html", context, cookies=viewer.cookies)

    @get("/{file_id:str}")
    async def detail(
        self, request: Request[Any, Any, Any], session: Session, viewer: PageViewer, file_id: FileId
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        file = to_read(await ops.get_file(session, actor=actor, file_id=file_id), actor_id=actor.id)
        previews = await ops.list_previews(session, actor=actor, file_id=file_id)
        context = {
            "viewer": viewer,
            "file": file,
            "large": next((p for p in previews if p.name == LARGE), None),
            "previews": previews,
        }
        return page(request, "file.html", context, cookies=viewer.cookies)
