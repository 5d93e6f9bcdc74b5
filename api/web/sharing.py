"""Sharing pages: the share dialog of a file, folder or record (a page of its own without
JavaScript; ``static/share.js`` shows the same fragment in a dialog on the object's page)
and "Shared with me".

A record's dialog names it by its model's page (``RecordPages``: every generated model's
``PageModel`` by record type, given by ``api.web.page_router``), and goes back to its
detail page.

The dialog's forms are plain: share with a username or one of your groups at a level
with an optional expiry, change a share's level, revoke it. Each answers with a redirect
back to where it was sent from (``next``, a path on this site) or, when refused, the
share page with the reason in words.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import PathParameter, QueryParameter
from litestar.response import Redirect
from pydantic import ValidationError

from api.deps import App
from api.web.fields import PageModel
from api.web.folders import refused
from api.web.render import page
from api.web.viewer import PageForm, PageViewer, require_account, safe_next
from mcore.access import Actor, Level
from mcore.errors import DomainError, Invalid, NotFound
from mcore.files import ops as files
from mcore.folders import ops as folders
from mcore.sharing import ops as sharing
from mcore.sharing.labels import RecordLabel, record_labels, share_labels
from mcore.sharing.models import ObjectType
from mcore.sharing.ops import ShareCreate, ShareUpdate

LEVEL_CHOICES = (
    ("view", "View: see, download, previews"),
    ("edit", "Edit: also rename, add files"),
    ("manage", "Manage: also delete, move, reshare"),
)
RECORD_LEVEL_CHOICES = (
    ("view", "View: see it and its history"),
    ("edit", "Edit: also save new versions"),
    ("manage", "Manage: also delete, change who sees it, reshare"),
)
KINDS = {"file": ObjectType.file, "folder": ObjectType.folder, "record": ObjectType.record}
ObjectId = Annotated[
    str, PathParameter(description="The file's, folder's or record's id", max_length=64)
]
# Every generated model's pages by record type (``mart/artist``): ``api.web.page_router``.
RecordPages = dict[str, PageModel]
Pages = NamedDependency[RecordPages]  # the parameter is named record_pages
ShareId = Annotated[str, PathParameter(description="The share's id", max_length=64)]


def _kind(kind: str) -> ObjectType:
    if kind not in KINDS:
        raise NotFound(f"nothing to share at {kind!r}")
    return KINDS[kind]


def own_page(kind: str, object_id: str) -> str:
    return f"/{kind}s/{object_id}"


def record_page(
    pages: RecordPages, object_id: str, label: RecordLabel | None
) -> tuple[PageModel, str, str] | None:
    """A live record's model, title and detail page address; None when it is gone or no
    page shows its type."""
    model = pages.get(label.type_name) if label is not None else None
    if label is None or model is None:
        return None
    title = model.title_of({**label.content, "id": object_id})
    return model, title, f"{model.route}/{object_id}"


def _expiry(text: str) -> datetime | None:
    """The end of the day a person picked (UTC), or None for no expiry."""
    if not text.strip():
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise Invalid("give the expiry as a date, like 2027-01-31", field="expires_on") from None
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


class SharePages(Controller):
    path = "/"

    async def _dialog(
        self,
        request: Request[Any, Any, Any],
        app: Any,
        pages: RecordPages,
        viewer: PageViewer,
        actor: Actor,
        kind: str,
        object_id: str,
        *,
        back: str | None,
        partial: bool = False,
        status: int = 200,
        error: DomainError | None = None,
        values: dict[str, str] | None = None,
    ) -> Response[Any]:
        object_type = _kind(kind)
        what, object_page, levels = kind, own_page(kind, object_id), LEVEL_CHOICES
        async with app.db.session() as session:
            if object_type is ObjectType.folder:
                folder, level = await folders.get_folder(session, actor=actor, folder_id=object_id)
                name = folder.name
            elif object_type is ObjectType.record:
                level = await sharing.object_level(session, actor, object_type, object_id)
                named = await record_labels(session, [object_id])
                shown = record_page(pages, object_id, named.get(object_id))
                if shown is None:
                    raise NotFound(f"no record with id {object_id!r}")
                model, name, object_page = shown
                what, levels = model.label, RECORD_LEVEL_CHOICES
            else:
                name = (await files.get_file(session, actor=actor, file_id=object_id)).filename
                level = await sharing.object_level(session, actor, object_type, object_id)
            shares = await sharing.list_shares(
                session,
                actor=actor,
                with_="others",
                object_type=object_type,
                object_id=object_id,
                limit=200,
            )
            labels = await share_labels(session, shares.items)
            groups = [g for g in await sharing.list_groups(session, actor=actor) if not g.system]
        here = f"/share/{kind}/{object_id}"
        context = {
            "viewer": viewer,
            "kind": kind,
            "what": what,
            "object_id": object_id,
            "name": name,
            "object_page": object_page,
            "may_share": level >= Level.manage,
            "shares": shares.items,
            "labels": labels,
            "groups": groups,
            "levels": levels,
            "action": here,
            "back": safe_next(back) if back else here,
            "error": error,
            "values": values or {},
            "today": datetime.now(UTC).date().isoformat(),
        }
        template = "share_dialog.html" if partial else "share.html"
        return page(request, template, context, status=status, cookies=viewer.cookies)

    @get("/share/{kind:str}/{object_id:str}")
    async def show(
        self,
        request: Request[Any, Any, Any],
        app_state: App,
        record_pages: Pages,
        viewer: PageViewer,
        kind: Annotated[str, PathParameter(max_length=16)],
        object_id: ObjectId,
        next_: Annotated[str | None, QueryParameter(name="next", max_length=2000)] = None,
        partial: Annotated[bool, QueryParameter()] = False,
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        return await self._dialog(
            request,
            app_state,
            record_pages,
            viewer,
            actor,
            kind,
            object_id,
            back=next_,
            partial=partial,
        )

    def _back(self, form: Any, kind: str, object_id: str) -> str:
        back = form.text("next")
        return safe_next(back) if back else f"/share/{kind}/{object_id}"

    def _after(self, back: str) -> Redirect:
        """Back where the form was, the dialog open again (``#share``)."""
        return Redirect(back + ("" if back.startswith("/share/") else "#share"), status_code=303)

    @post("/share/{kind:str}/{object_id:str}")
    async def share(
        self,
        request: Request[Any, Any, Any],
        app_state: App,
        record_pages: Pages,
        viewer: PageViewer,
        form: PageForm,
        kind: Annotated[str, PathParameter(max_length=16)],
        object_id: ObjectId,
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        object_type = _kind(kind)
        back = self._back(form, kind, object_id)
        values = {k: form.text(k) for k in ("username", "group_id", "level", "expires_on")}
        try:
            username, group_id = form.optional("username"), form.optional("group_id")
            if username and group_id:
                raise Invalid("share with one person or one group at a time", field="username")
            if not username and not group_id:
                raise Invalid("give a username or choose a group to share with", field="username")
            data = ShareCreate(
                object_type=object_type,
                object_id=object_id,
                username=username,
                group_id=group_id,
                level=values["level"] or "view",  # type: ignore[arg-type]
                expires_at=_expiry(values["expires_on"]),
            )
            async with app_state.db.session(write=True) as session:
                await sharing.create_share(session, actor=actor, data=data)
        except (DomainError, ValidationError) as exc:
            error, status = refused(exc)
            return await self._dialog(
                request,
                app_state,
                record_pages,
                viewer,
                actor,
                kind,
                object_id,
                back=back,
                status=status,
                error=error,
                values=values,
            )
        return self._after(back)

    @post("/share/{kind:str}/{object_id:str}/{share_id:str}/level")
    async def change(
        self,
        request: Request[Any, Any, Any],
        app_state: App,
        record_pages: Pages,
        viewer: PageViewer,
        form: PageForm,
        kind: Annotated[str, PathParameter(max_length=16)],
        object_id: ObjectId,
        share_id: ShareId,
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        back = self._back(form, kind, object_id)
        try:
            data = ShareUpdate(level=form.text("level"))  # type: ignore[arg-type]
            async with app_state.db.session(write=True) as session:
                await sharing.update_share(session, actor=actor, share_id=share_id, data=data)
        except (DomainError, ValidationError) as exc:
            error, status = refused(exc)
            return await self._dialog(
                request,
                app_state,
                record_pages,
                viewer,
                actor,
                kind,
                object_id,
                back=back,
                status=status,
                error=error,
            )
        return self._after(back)

    @post("/share/{kind:str}/{object_id:str}/{share_id:str}/revoke")
    async def revoke(
        self,
        request: Request[Any, Any, Any],
        app_state: App,
        record_pages: Pages,
        viewer: PageViewer,
        form: PageForm,
        kind: Annotated[str, PathParameter(max_length=16)],
        object_id: ObjectId,
        share_id: ShareId,
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        back = self._back(form, kind, object_id)
        try:
            async with app_state.db.session(write=True) as session:
                await sharing.revoke_share(session, actor=actor, share_id=share_id)
        except DomainError as exc:
            error, status = refused(exc)
            return await self._dialog(
                request,
                app_state,
                record_pages,
                viewer,
                actor,
                kind,
                object_id,
                back=back,
                status=status,
                error=error,
            )
        return self._after(back)

    @get("/shared")
    async def shared_with_me(
        self,
        request: Request[Any, Any, Any],
        app_state: App,
        record_pages: Pages,
        viewer: PageViewer,
        cursor: Annotated[str | None, QueryParameter(max_length=512)] = None,
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        async with app_state.db.session() as session:
            found = await sharing.list_shares(
                session, actor=actor, with_="me", cursor=cursor, limit=50
            )
            labels = await share_labels(session, found.items)
        records: dict[str, dict[str, str]] = {}
        for ident, label in labels.records.items():
            shown = record_page(record_pages, ident, label)
            if shown is not None:
                model, title, address = shown
                records[ident] = {"label": model.label, "title": title, "page": address}
        context = {
            "viewer": viewer,
            "shares": found.items,
            "labels": labels,
            "records": records,
            "next": found.next,
        }
        return page(request, "shared.html", context, cookies=viewer.cookies)
