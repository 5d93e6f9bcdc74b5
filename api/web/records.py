"""The pages of every generated model, from its ``PageModel`` (``api/_generated/``): list,
detail, create, edit, history (with a version's page and revert), delete, and visibility
and moderation where the ops allow them.

Each handler calls the model's generated ops, which check every permission through
``mcore.access``: a record the viewer may not see is the 404 page. Forms are plain HTML
(``api.web.fields`` reads them); ``static/records.js`` adds the search pickers and list
rows without a round trip. An edit carries the head CID it started from and sends it as
``If-Match``; when someone else saved first, the form comes back with their version
beside the viewer's own values, ready to be applied again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Request, Response, Router, get, post
from litestar.params import PathParameter, QueryParameter
from litestar.response import Redirect
from sqlmodel.ext.asyncio.session import AsyncSession

from api.deps import App, AppSettings, Session
from api.errors import status_and_title
from api.web.fields import (
    PageField,
    PageModel,
    body_of,
    diff,
    flat_display,
    form_values,
    reorder,
    rows,
    shown_rows,
    submitted,
)
from api.web.render import page
from api.web.rendered import rendered
from api.web.viewer import Form, PageForm, PageViewer, Viewer, require_account
from mcore.access import Action, Actor, Level, Visibility
from mcore.access.objects import require_level
from mcore.errors import DomainError, Gone, Invalid, NotFound, PreconditionFailed
from mcore.files import ops as files
from mcore.records.ops import level, projected, validate

PAGE_SIZE = 50
THUMB = "preview-256"
LARGE = "preview-1024"
HISTORY_SIZE = 50
RecordId = Annotated[str, PathParameter(description="The record's id", max_length=64)]
VersionCid = Annotated[str, PathParameter(description="The version's CID", max_length=64)]
Text = Annotated[str | None, QueryParameter(max_length=512)]
DONE = {
    "created": "Saved.",
    "saved": "Your changes were saved as a new version.",
    "unchanged": "Nothing changed, so no new version was written.",
    "reverted": "Reverted: that version's content is the new head.",
    "deleted": "Deleted. Its history stays, and reverting brings it back.",
    "visibility": "Who may see it was changed.",
    "hidden": "Its moderation state was changed.",
}


def _plain(read: Any) -> dict[str, Any]:
    return dict(read.model_dump(mode="json"))


class Resolver:
    """Titles of linked records and thumbnails of linked images, a page at a time.

    ``by_name`` finds a link's target model by its name (a link within a domain) or its
    ``$type`` (a link to another domain's model, ``msocial/profile``); a target whose
    pages are not installed is shown as its id."""

    def __init__(self, models: Sequence[PageModel]) -> None:
        self.by_name = {m.name: m for m in models} | {m.type_name: m for m in models}

    def _links(self, field: PageField, value: Any, out: dict[str, set[str]]) -> None:
        if value is None:
            return
        if field.kind == "link" and isinstance(value, str):
            out.setdefault(field.target, set()).add(value)
        elif field.kind == "embedded" and isinstance(value, Mapping):
            for f in field.fields:
                self._links(f, value.get(f.name), out)
        elif field.kind == "list" and isinstance(value, list) and field.item is not None:
            for item in value:
                self._links(field.item, item, out)

    def _files(self, field: PageField, value: Any, out: set[str]) -> None:
        if field.kind == "file" and isinstance(value, str):
            out.add(value)
        elif field.kind == "embedded" and isinstance(value, Mapping):
            for f in field.fields:
                self._files(f, value.get(f.name), out)
        elif field.kind == "list" and isinstance(value, list) and field.item is not None:
            for item in value:
                self._files(field.item, item, out)

    async def _thumbs(
        self, session: AsyncSession, actor: Actor, target: str, ids: Iterable[str], name: str
    ) -> dict[str, str]:
        """Preview addresses of records of ``target`` (an image model) by id."""
        model = self.by_name[target]
        assert model.cover is not None
        cids = await projected(
            session, model.record_type, actor=actor, object_ids=list(ids), column=model.cover
        )
        blobs = await files.preview_blobs(session, actor=actor, cids=list(cids.values()), name=name)
        return {i: f"/blobs/{blobs[c]}" for i, c in cids.items() if c in blobs}

    async def covers(
        self, session: AsyncSession, actor: Actor, model: PageModel, items: Sequence[Any]
    ) -> dict[str, str]:
        """Each item's cover preview address, by the item's id."""
        wanted = {item["id"]: model.cover_ids(item) for item in items}
        sources = {v for v in wanted.values() if v}
        if not sources:
            return {}
        if model.cover_target is None:
            blobs = await files.preview_blobs(session, actor=actor, cids=list(sources), name=THUMB)
            found = {c: f"/blobs/{b}" for c, b in blobs.items()}
        else:
            found = await self._thumbs(session, actor, model.cover_target, sources, THUMB)
        return {i: found[s] for i, s in wanted.items() if s in found}

    async def linked(
        self, session: AsyncSession, actor: Actor, model: PageModel, values: Sequence[Any]
    ) -> dict[str, Any]:
        """What a record's page shows of what it links: ``titles`` (id -> (address,
        title)) of the records the viewer may read, ``thumbs`` (id or CID -> preview)."""
        ids: dict[str, set[str]] = {}
        cids: set[str] = set()
        for value in values:
            for f in model.fields:
                self._links(f, value.get(f.name), ids)
                self._files(f, value.get(f.name), cids)
        titles: dict[str, tuple[str, str]] = {}
        covers: dict[str, str] = {}  # a linked record's id -> the CID of its image
        for target, wanted in ids.items():
            other = self.by_name.get(target)
            if other is None:
                continue
            for ident in sorted(wanted)[:100]:
                try:
                    read = await other.get(session, actor=actor, **{other.id_param: ident})
                except (NotFound, Gone, Invalid):
                    continue
                found = _plain(read)
                titles[ident] = (f"{other.route}/{ident}", other.title_of(found))
                cover = other.cover_ids(found) if other.cover_target is None else None
                if cover is not None:
                    covers[ident] = cover
        thumbs: dict[str, str] = {}
        wanted_cids = sorted(cids | set(covers.values()))
        if wanted_cids:
            blobs = await files.preview_blobs(session, actor=actor, cids=wanted_cids, name=THUMB)
            thumbs.update({c: f"/blobs/{b}" for c, b in blobs.items() if c in cids})
            thumbs.update({i: f"/blobs/{blobs[c]}" for i, c in covers.items() if c in blobs})
        return {"titles": titles, "thumbs": thumbs}

    async def large(
        self, session: AsyncSession, actor: Actor, model: PageModel, values: Mapping[str, Any]
    ) -> str | None:
        """The large preview of a record that is an image itself (an image file)."""
        if model.cover is None or model.cover_target is not None:
            return None
        cid = values.get(model.cover)
        if not isinstance(cid, str):
            return None
        blobs = await files.preview_blobs(session, actor=actor, cids=[cid], name=LARGE)
        return f"/blobs/{blobs[cid]}" if cid in blobs else None


def _errors(exc: DomainError) -> dict[str, str]:
    """The messages of a refusal by form path (``name.full``; ``body`` when unplaced)."""
    found: dict[str, str] = {}
    for item in exc.extra.get("errors") or []:
        field = str(item.get("field") or "body")
        message = str(item.get("message", "")).removeprefix("Value error, ")
        found.setdefault(field, message)
    if not found:
        found[getattr(exc, "field", None) or "body"] = exc.detail
    return found


def _row_action(form: Form) -> tuple[str, str, int] | None:
    """A list row button pressed without JavaScript: ``(action, path, index)``; adding a
    row is ``("add", path, -1)``."""
    pressed = form.text("_row")
    if not pressed:
        return None
    action, _, rest = pressed.partition(":")
    path, _, index = rest.rpartition(":") if action != "add" else (rest, "", "-1")
    if action not in ("add", "remove", "up", "down") or not path:
        return None
    return action, path, int(index) if index.lstrip("-").isdigit() else -1


def _visibility(form: Form) -> Visibility:
    value = form.text("visibility") or Visibility.private.value
    try:
        return Visibility(value)
    except ValueError:
        raise Invalid("choose who may see it from the list", field="visibility") from None


def model_router(model: PageModel, models: Sequence[PageModel]) -> Router:
    """The pages of one model under its plural address (``/artists``)."""
    resolver = Resolver(models)
    key = {model.id_param: ""}
    type_name = model.record_type.subject.type_name

    def ident(object_id: str) -> dict[str, str]:
        return {next(iter(key)): object_id}

    async def held(
        session: AsyncSession, actor: Actor, object_id: str, needs: Action | None = None
    ) -> Level:
        """The actor's level on a record (``mcore.access``: its owner, an admin, or a
        share), so its pages offer only what its ops allow; with ``needs``, the 403 page
        naming the missing right instead of a form the actor may not send."""
        found = await level(session, model.record_type, actor=actor, object_id=object_id)
        if needs is not None:
            require_level(found, needs, what=model.label)
        return found

    def show(
        request: Request[Any, Any, Any],
        viewer: Viewer,
        name: str,
        context: dict[str, Any],
        status: int = 200,
    ) -> Response[str]:
        base = {"viewer": viewer, "model": model, "models": resolver.by_name}
        return page(request, name, {**base, **context}, status=status, cookies=viewer.cookies)

    def form_page(
        request: Request[Any, Any, Any],
        viewer: Viewer,
        *,
        values: dict[str, str],
        errors: dict[str, str] | None = None,
        record: Any = None,
        head: str | None = None,
        visibility: str = Visibility.private.value,
        may_manage: bool = True,
        theirs: dict[str, Any] | None = None,
        linked: dict[str, Any] | None = None,
        status: int = 200,
    ) -> Response[str]:
        row_counts: dict[str, int] = {}
        for f in model.fields:
            _count_rows(f, values, f.name, row_counts)
        context = {
            "values": values,
            "errors": errors or {},
            "record": record,
            "head": head,
            "visibility": visibility,
            "may_manage": may_manage,
            "theirs": theirs,
            "linked": linked or {"titles": {}, "thumbs": {}},
            "rows": row_counts,
        }
        return show(request, viewer, "records/form.html", context, status)

    @get("/")
    async def list_page(
        request: Request[Any, Any, Any],
        session: Session,
        viewer: PageViewer,
        q: Text = None,
        by: Text = None,
        sort: Text = None,
        cursor: Annotated[str | None, QueryParameter(max_length=1024)] = None,
        done: Text = None,
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        search = next((s for s in model.search if s.param == by), None) or next(
            (s for s in model.search if s.param == model.title_param), None
        )
        filters: dict[str, Any] = {}
        error = None
        if q and q.strip() and search is not None:
            words = q.strip()
            if search.kind == "integer":
                if not words.lstrip("-").isdigit():
                    error = f"{search.label} is a whole number: type digits"
                else:
                    filters[search.param] = int(words)
            else:
                filters[search.param] = words
        sorts = [s for name in model.sorts for s in (f"-{name}", name)]
        chosen = sort if sort in sorts else None
        items: list[dict[str, Any]] = []
        next_cursor = None
        status = 200
        if error is None:
            try:
                found = await model.list(
                    session,
                    actor=actor,
                    cursor=cursor,
                    limit=PAGE_SIZE,
                    sort=chosen,
                    **filters,
                )
                items = [_plain(item) for item in found.items]
                next_cursor = found.next
            except Invalid as exc:
                error, status = exc.detail, 422
        context = {
            "items": items,
            "next": next_cursor,
            "covers": await resolver.covers(session, actor, model, items),
            "q": q or "",
            "by": search.param if search else "",
            "sort": chosen or "",
            "sorts": [(name, _sort_label(name)) for name in sorts],
            "error": error,
            "first_page": cursor is None,
            "done": DONE.get(done or ""),
        }
        return show(request, viewer, "records/list.html", context, status)

    @get("/new")
    async def new_page(request: Request[Any, Any, Any], viewer: PageViewer) -> Response[Any]:
        require_account(request, viewer)
        return form_page(request, viewer, values={})

    @post("/new")
    async def create(
        request: Request[Any, Any, Any], app_state: App, viewer: PageViewer, form: PageForm
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        values = submitted(form.fields)
        visibility = form.text("visibility") or Visibility.private.value
        action = _row_action(form)
        if action is not None:
            return form_page(
                request, viewer, values=_apply_row(values, action), visibility=visibility
            )
        try:
            data = validate(
                model.create_schema,
                {
                    **_present(body_of(model, form.fields)),
                    "visibility": _visibility(form).value,
                },
            )
            async with app_state.db.session(write=True) as session:
                read = await model.create(session, actor=actor, data=data)
        except DomainError as exc:
            status = status_and_title(exc)[0]
            return form_page(
                request,
                viewer,
                values=values,
                errors=_errors(exc),
                visibility=visibility,
                status=status,
            )
        return Redirect(f"{model.route}/{read.id}?done=created", status_code=303)

    @get("/{record_id:str}")
    async def detail(
        request: Request[Any, Any, Any],
        session: Session,
        viewer: PageViewer,
        record_id: RecordId,
        done: Text = None,
        at: Annotated[str | None, QueryParameter(max_length=40)] = None,
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        when = _as_of(at)
        read = await model.get(session, actor=actor, at=when, **ident(record_id))
        record = _plain(read)
        linked = await resolver.linked(session, actor, model, [record])
        view = await rendered(session, actor, resolver, type_name, record, linked)
        context = {
            "record": record,
            "title": view.title if view and view.title else model.title_of(record),
            "linked": linked,
            "rendered": view,
            "large": await resolver.large(session, actor, model, record),
            **_offered(await held(session, actor, record_id)),
            "moderator": actor.is_moderator,
            "done": DONE.get(done or ""),
            "version": read.cid if when is not None else None,
            "as_of": when,
        }
        return show(request, viewer, "records/detail.html", context)

    @get("/{record_id:str}/edit")
    async def edit_page(
        request: Request[Any, Any, Any], session: Session, viewer: PageViewer, record_id: RecordId
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        record = _plain(await model.get(session, actor=actor, **ident(record_id)))
        may = await held(session, actor, record_id, Action.update)
        return form_page(
            request,
            viewer,
            values=form_values(model, record),
            record=record,
            head=record["cid"],
            visibility=record["visibility"],
            may_manage=may >= Level.manage,
        )

    @post("/{record_id:str}/edit")
    async def edit(
        request: Request[Any, Any, Any],
        app_state: App,
        viewer: PageViewer,
        form: PageForm,
        record_id: RecordId,
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        async with app_state.db.session() as session:
            current = _plain(await model.get(session, actor=actor, **ident(record_id)))
            may_manage = await held(session, actor, record_id, Action.update) >= Level.manage
        values = submitted(form.fields)
        head = form.text("head") or current["cid"]
        visibility = form.text("visibility") or current["visibility"]
        action = _row_action(form)
        if action is not None:
            return form_page(
                request,
                viewer,
                values=_apply_row(values, action),
                record=current,
                head=head,
                visibility=visibility,
                may_manage=may_manage,
            )
        try:
            body = body_of(model, form.fields)
            if form.text("visibility") and _visibility(form).value != current["visibility"]:
                body["visibility"] = _visibility(form).value  # a change that needs manage
            data = validate(model.update_schema, body)
            async with app_state.db.session(write=True) as session:
                read = await model.update(
                    session, actor=actor, data=data, if_match=[head], **ident(record_id)
                )
        except PreconditionFailed:
            async with app_state.db.session() as session:
                theirs = await resolver.linked(session, actor, model, [current])
            return form_page(
                request,
                viewer,
                values=values,
                record=current,
                head=current["cid"],  # saving again applies these values over theirs
                visibility=visibility,
                may_manage=may_manage,
                theirs=current,
                linked=theirs,
                status=412,
            )
        except DomainError as exc:
            return form_page(
                request,
                viewer,
                values=values,
                errors=_errors(exc),
                record=current,
                head=head,
                visibility=visibility,
                may_manage=may_manage,
                status=status_and_title(exc)[0],
            )
        done = "saved" if read.cid != head else "unchanged"
        return Redirect(f"{model.route}/{record_id}?done={done}", status_code=303)

    @get("/{record_id:str}/history")
    async def history(
        request: Request[Any, Any, Any],
        session: Session,
        viewer: PageViewer,
        record_id: RecordId,
        done: Text = None,
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        found = await model.versions(session, actor=actor, limit=HISTORY_SIZE, **ident(record_id))
        shown: list[dict[str, Any]] = []
        for version in found.items:
            values: dict[str, str] = {}
            if not version.deleted:
                read = await model.get_version(
                    session, actor=actor, version_cid=version.cid, **ident(record_id)
                )
                values = flat_display(model, _plain(read))
            shown.append({"version": version, "values": values})
        for newer, older in zip(shown, [*shown[1:], None], strict=True):
            newer["changes"] = diff(older["values"] if older else {}, newer["values"])
        head = found.items[0] if found.items else None
        title = ""
        live = head is not None and not head.deleted
        if live:
            title = model.title_of(
                _plain(await model.get(session, actor=actor, **ident(record_id)))
            )
        context = {
            "record_id": record_id,
            "title": title or f"{model.label.capitalize()} {record_id[-8:]}",
            "versions": shown,
            "head": head,
            "live": live,
            "more": found.next is not None,
            "done": DONE.get(done or ""),
            # bringing a deleted one back is a restore, which needs manage
            "may_revert": await held(session, actor, record_id)
            >= (Level.edit if live else Level.manage),
        }
        return show(request, viewer, "records/history.html", context)

    @get("/{record_id:str}/versions/{version_cid:str}")
    async def version_page(
        request: Request[Any, Any, Any],
        session: Session,
        viewer: PageViewer,
        record_id: RecordId,
        version_cid: VersionCid,
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        try:
            read = await model.get_version(
                session, actor=actor, version_cid=version_cid, **ident(record_id)
            )
        except Invalid:
            raise NotFound(f"no version {version_cid} of this {model.label}") from None
        record = _plain(read)
        linked = await resolver.linked(session, actor, model, [record])
        view = await rendered(session, actor, resolver, type_name, record, linked)
        context = {
            "record": record,
            "title": view.title if view and view.title else model.title_of(record),
            "linked": linked,
            "rendered": view,
            "large": await resolver.large(session, actor, model, record),
            **_offered(await held(session, actor, record_id)),
            "moderator": False,
            "done": None,
            "version": version_cid,
            "as_of": None,
        }
        return show(request, viewer, "records/detail.html", context)

    @post("/{record_id:str}/revert")
    async def revert(
        request: Request[Any, Any, Any],
        app_state: App,
        viewer: PageViewer,
        form: PageForm,
        record_id: RecordId,
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        async with app_state.db.session(write=True) as session:
            await model.revert(session, actor=actor, to=form.text("to"), **ident(record_id))
        return Redirect(f"{model.route}/{record_id}?done=reverted", status_code=303)

    @get("/{record_id:str}/delete")
    async def delete_page(
        request: Request[Any, Any, Any], session: Session, viewer: PageViewer, record_id: RecordId
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        record = _plain(await model.get(session, actor=actor, **ident(record_id)))
        context = {"record": record, "title": model.title_of(record)}
        return show(request, viewer, "records/delete.html", context)

    @post("/{record_id:str}/delete")
    async def delete(
        request: Request[Any, Any, Any],
        app_state: App,
        settings: AppSettings,
        viewer: PageViewer,
        form: PageForm,
        record_id: RecordId,
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        head = form.text("head")
        async with app_state.db.session(write=True) as session:
            await model.delete(
                session,
                actor=actor,
                if_match=[head] if head else None,
                undeletable=settings.undeletable,
                **ident(record_id),
            )
        return Redirect(f"{model.route}/{record_id}/history?done=deleted", status_code=303)

    @post("/{record_id:str}/visibility")
    async def visibility(
        request: Request[Any, Any, Any],
        app_state: App,
        viewer: PageViewer,
        form: PageForm,
        record_id: RecordId,
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        data = validate(model.update_schema, {"visibility": _visibility(form).value})
        async with app_state.db.session(write=True) as session:
            await model.update(session, actor=actor, data=data, **ident(record_id))
        return Redirect(f"{model.route}/{record_id}?done=visibility", status_code=303)

    @post("/{record_id:str}/hidden")
    async def hidden(
        request: Request[Any, Any, Any],
        app_state: App,
        viewer: PageViewer,
        form: PageForm,
        record_id: RecordId,
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        data = validate(model.update_schema, {"hidden": form.text("hidden") == "true"})
        async with app_state.db.session(write=True) as session:
            await model.update(session, actor=actor, data=data, **ident(record_id))
        return Redirect(f"{model.route}/{record_id}?done=hidden", status_code=303)

    return Router(
        path=model.route,
        route_handlers=[
            list_page,
            new_page,
            create,
            detail,
            edit_page,
            edit,
            history,
            version_page,
            revert,
            delete_page,
            delete,
            visibility,
            hidden,
        ],
    )


TIMES = {"created_at": "Made", "updated_at": "Changed"}


def _offered(held: Level) -> dict[str, bool]:
    """Which actions a record's page shows: editing (and reverting) needs ``edit``;
    deleting, changing who sees it and sharing need ``manage``."""
    return {"may_edit": held >= Level.edit, "may_manage": held >= Level.manage}


def _sort_label(sort: str) -> str:
    """``-created_at`` -> ``Made, newest first``; ``title_full`` -> ``Title full, A to Z``."""
    key = sort.removeprefix("-")
    descending = sort.startswith("-")
    if key in TIMES:
        return f"{TIMES[key]}, {'newest' if descending else 'oldest'} first"
    words = key.replace("_", " ")
    return f"{words[:1].upper()}{words[1:]}, {'descending' if descending else 'ascending'}"


def _as_of(text: str | None) -> datetime | None:
    """The time of an as-of view (``2026-12-04T01:27``, read as UTC), None for the head."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid("give the time as YYYY-MM-DDTHH:MM", field="at") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _present(body: Mapping[str, Any]) -> dict[str, Any]:
    """A create body: fields left empty are left out (so their defaults apply)."""
    return {k: v for k, v in body.items() if v is not None}


def _apply_row(values: dict[str, str], action: tuple[str, str, int]) -> dict[str, str]:
    verb, path, index = action
    if verb == "add":
        return {**values, f"_rows:{path}": str(shown_rows(values, path) + 1)}
    moved = reorder(values, path, verb, index)
    return {**moved, f"_rows:{path}": str(max(shown_rows(moved, path), 1))}


def _count_rows(
    field: PageField, values: Mapping[str, str], path: str, out: dict[str, int]
) -> None:
    if field.kind == "list":
        out[path] = rows(field, values, path)
    elif field.kind == "embedded":
        for f in field.fields:
            _count_rows(f, values, f"{path}.{f.name}", out)


def record_routers(models: Sequence[PageModel]) -> list[Router]:
    """The pages of every model."""
    return [model_router(model, models) for model in models]
