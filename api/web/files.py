"""The file manager: the signed-in person's files as a grid of previews or a list (name,
type, size, date, status) with sort, type filter and name search; several at once
downloaded as one zip, moved to the trash, or restored from the trash view; one file's
page; and uploads with per-file progress and live processing status
(``static/files.js``, which calls the same upload route and event socket as every
client)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import PathParameter, QueryParameter
from litestar.response import Redirect, Stream

from api.deps import App, AppSettings, Session, Store
from api.web.render import page
from api.web.viewer import PageForm, PageViewer, require_account
from mcore.errors import Invalid
from mcore.files import ops
from mcore.files.models import to_read
from mcore.files.names import content_disposition
from mcore.files.zips import plan_zip, stream_zip

PAGE_SIZE = 48
THUMB = "preview-256"
LARGE = "preview-1024"
FileId = Annotated[str, PathParameter(description="The file's id", max_length=64)]
Text = Annotated[str | None, QueryParameter(max_length=255)]
MAX_SELECTED = 1000
SORTS = (
    ("-created", "Newest first"),
    ("created", "Oldest first"),
    ("name", "Name, A to Z"),
    ("-name", "Name, Z to A"),
    ("-size", "Largest first"),
    ("size", "Smallest first"),
)
KINDS = (
    ("", "All types"),
    ("image", "Images"),
    ("video", "Videos"),
    ("audio", "Audio"),
    ("pdf", "PDFs"),
    ("text", "Text"),
)
DONE = {
    "trashed": "Moved to the trash. Restore them from the trash view.",
    "restored": "Restored from the trash.",
}


def _selected(ids: list[str]) -> list[str]:
    chosen = list(dict.fromkeys(i for i in ids if i))
    if not chosen:
        raise Invalid("select at least one file first", field="ids")
    if len(chosen) > MAX_SELECTED:
        raise Invalid(f"select at most {MAX_SELECTED} files at once", field="ids")
    return chosen


class FilePages(Controller):
    path = "/files"

    async def _listing(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        viewer: PageViewer,
        *,
        trashed: bool,
        cursor: str | None,
        view: str | None,
        sort: str | None,
        kind: str | None,
        q: str | None,
        done: str | None,
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        chosen_sort = sort if sort in ops.FILE_SORTS else "-created"
        chosen_kind = kind if kind in ops.FILE_KINDS else None
        found = await ops.browse_files(
            session,
            actor=actor,
            cursor=cursor,
            limit=PAGE_SIZE,
            sort=chosen_sort,
            kind=chosen_kind,
            name=(q or "").strip() or None,
            trashed=trashed,
        )
        filtered = chosen_sort != "-created" or chosen_kind is not None or bool(q)
        context = {
            "viewer": viewer,
            "files": found.items,
            "next": found.next,
            "thumbs": await ops.with_preview(session, files=found.items, name=THUMB),
            "first_page": cursor is None,
            "trashed": trashed,
            "view": "list" if trashed or view == "list" else "grid",
            "sort": chosen_sort,
            "kind": chosen_kind or "",
            "q": q or "",
            "sorts": SORTS,
            "kinds": KINDS,
            "filtered": filtered,
            "done": DONE.get(done or ""),
        }
        return page(request, "files.html", context, cookies=viewer.cookies)

    @get("/")
    async def index(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        viewer: PageViewer,
        cursor: Annotated[str | None, QueryParameter(max_length=512)] = None,
        view: Text = None,
        sort: Text = None,
        kind: Text = None,
        q: Text = None,
        done: Text = None,
    ) -> Response[Any]:
        return await self._listing(
            request,
            session,
            viewer,
            trashed=False,
            cursor=cursor,
            view=view,
            sort=sort,
            kind=kind,
            q=q,
            done=done,
        )

    @get("/trash")
    async def trash(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        viewer: PageViewer,
        cursor: Annotated[str | None, QueryParameter(max_length=512)] = None,
        sort: Text = None,
        kind: Text = None,
        q: Text = None,
        done: Text = None,
    ) -> Response[Any]:
        return await self._listing(
            request,
            session,
            viewer,
            trashed=True,
            cursor=cursor,
            view="list",
            sort=sort,
            kind=kind,
            q=q,
            done=done,
        )

    @post("/selected", status_code=200)
    async def selected(
        self,
        request: Request[Any, Any, Any],
        app_state: App,
        settings: AppSettings,
        store: Store,
        viewer: PageViewer,
        form: PageForm,
    ) -> Response[Any]:
        """What the list's buttons do with the files ticked: ``zip`` streams them as one
        zip (as ``POST /api/v1/files/zip`` does), ``trash`` and ``restore`` move them."""
        actor = require_account(request, viewer)
        ids = _selected(form.all("ids"))
        action = form.text("action")
        if action == "zip":
            async with app_state.db.session() as session:
                members = await plan_zip(
                    session,
                    actor=actor,
                    file_ids=ids,
                    previews=False,
                    originals=settings.media.serve_public_originals,
                )
            return Stream(
                stream_zip(store, members),
                media_type="application/zip",
                headers={
                    "Content-Disposition": content_disposition("attachment", "mstack-files.zip"),
                    "X-Content-Type-Options": "nosniff",
                    "Cache-Control": "no-store",
                },
            )
        if action not in ("trash", "restore"):
            raise Invalid("choose what to do with the files selected", field="action")
        async with app_state.db.session(write=True) as session:
            for file_id in ids:
                if action == "trash":
                    await ops.trash_file(
                        session, actor=actor, file_id=file_id, undeletable=settings.undeletable
                    )
                else:
                    await ops.restore_file(session, actor=actor, file_id=file_id, settings=settings)
        if action == "trash":
            return Redirect("/files?view=list&done=trashed", status_code=303)
        return Redirect("/files/trash?done=restored", status_code=303)

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
