"""Running widgets and rendering posts and pages for a viewer, shared by the API
(``GET /api/v1/widgets/render``, ``GET /api/v1/posts/{id}/rendered``, feeds with
``render=true``) and the web pages.

A widget runs through the generated op that the lookup table (``api/_generated/widgets.py``)
names, with the viewer's own permissions, so it shows exactly what that viewer may read.
Inside a post, a widget that fails (unknown, malformed, an id the viewer may not read, a
right they lack) becomes an inline error carrying the status and sentence the widgets
route would have answered, never a failed read of the post.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Callable
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from api._generated.widgets import TARGETS
from api.errors import status_and_title
from mcore.access import Actor
from mcore.errors import DomainError, Invalid
from msocial import markdown
from msocial._generated.models import PostRead
from msocial.specs import POST
from msocial.widgets import Widget, WidgetError, parse

# A post's widgets are at most its spec's `max_items`; a page's widget blocks (up to 200)
# are run up to the same count, the rest shown as an inline error.
MAX_WIDGETS = next(f.kind.max_items for f in POST.fields if f.name == "widgets")
RENDERED_PAGE = 20  # posts in a feed page with render=true: up to 200 widgets run


class WidgetResult(SQLModel):
    expr: str
    items: list[dict[str, Any]]


class WidgetProblem(SQLModel):
    status: int = Field(description="The status the widgets route answers for it: 404, 422...")
    detail: str = Field(description="What is wrong, in a sentence")


class WidgetShown(SQLModel):
    """A widget of a post as the viewer sees it: the items it lists (at most 50)."""

    expr: str = Field(description="The widget's expression, as written in the post")
    type: str = Field(description="The record type of its items, such as mart/artist")
    items: list[dict[str, Any]] = Field(description="The records, as their reads return them")


class WidgetFailed(SQLModel):
    """A widget the viewer cannot see, in place of its items."""

    expr: str = Field(description="The widget's expression, as written in the post")
    error: WidgetProblem


WidgetRendered = WidgetShown | WidgetFailed


class RenderedPost(PostRead):
    """A post with its text rendered and its widgets run, for the viewer."""

    text_html: str | None = Field(
        default=None,
        description="The text's Markdown as safe HTML (no raw HTML; links only http, https,"
        " mailto or relative, with rel=nofollow noopener ugc; images only from /blobs/)",
    )
    widgets_rendered: list[WidgetRendered] | None = Field(
        default=None,
        description="Each widget in order: `{expr, type, items}`, or `{expr, error: {status,"
        " detail}}` when the viewer cannot see it",
    )


class RenderedPostPage(SQLModel):
    """A page of posts; with `render=true` each carries `text_html` and `widgets_rendered`."""

    items: list[RenderedPost]
    next: str | None


def _sort_param(target: dict[str, Any], sort: str) -> str:
    wanted = sort.replace(".", "_")
    if wanted.lstrip("-") not in target["sorts"]:
        known = ", ".join(s.replace("_", ".") for s in target["sorts"])
        raise Invalid(f"cannot sort by {sort.lstrip('-')!r}: choose one of {known}", field="expr")
    return wanted


def _filter_param(target: dict[str, Any], name: str) -> str:
    for candidate in (name, name.replace(".", "_"), f"{name}s"):
        if candidate in target["filters"]:
            return candidate
    known = ", ".join(target["filters"]) or "none"
    raise Invalid(f"{name!r} is not a filter of this list (filters: {known})", field="expr")


# What a database integer holds (SQLite's and PostgreSQL's bigint): a filter beyond it
# could match nothing, and the drivers refuse it rather than say so.
_INT_RANGE = (-(2**63), 2**63 - 1)


@functools.cache
def _param_type(op: Callable[..., Any], param: str) -> TypeAdapter[Any] | None:
    """A generated list op's filter parameter as a validator (``year: int | None``)."""
    hint = typing.get_type_hints(op).get(param)
    return None if hint is None else TypeAdapter(hint)


def _filter_value(target: dict[str, Any], param: str, name: str, value: Any) -> Any:
    """``value`` as the list op's ``param`` takes it, or ``Invalid`` naming the filter: the
    HTTP route's query parameters are checked by their types, and a widget's must be too,
    else a wrong kind reaches the database (which on PostgreSQL fails the whole read)."""
    adapter = _param_type(target["list"], param)
    try:
        checked = adapter.validate_python(value) if adapter is not None else value
    except ValidationError:
        raise Invalid(
            f"the filter {name!r} does not take {value!r}: {_kind(adapter)}", field="expr"
        ) from None
    if isinstance(checked, int) and not _INT_RANGE[0] <= checked <= _INT_RANGE[1]:
        raise Invalid(f"the filter {name!r} takes a number no larger than 2^63", field="expr")
    return checked


def _kind(adapter: TypeAdapter[Any] | None) -> str:
    schema = adapter.json_schema() if adapter is not None else {}
    kinds = [s.get("type") for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
    words = {"integer": "a whole number", "string": "text", "boolean": "true or false"}
    return " or ".join(words.get(str(k), str(k)) for k in kinds if k) or "another kind"


def _target(widget: Widget) -> dict[str, Any]:
    target = TARGETS.get((widget.domain, widget.collection))
    if target is None:
        raise Invalid(
            f"{widget.domain}.{widget.collection} is not something widgets show", field="expr"
        )
    return target


async def render_widget(
    session: AsyncSession, actor: Actor, widget: Widget
) -> list[dict[str, Any]]:
    """Run a widget with the viewer's own permissions, through the generated op that the
    lookup table names; ``Invalid`` for a name it does not know."""
    target = _target(widget)
    if widget.op == "get":
        read = await target["get"](session, actor=actor, **{target["id_param"]: widget.id})
        return [read.model_dump(mode="json")]
    kwargs: dict[str, Any] = {"limit": widget.limit}
    for name, value in widget.args.items():
        if name == "limit":
            continue
        if name == "sort":
            kwargs["sort"] = _sort_param(target, str(value))
        else:
            param = _filter_param(target, name)
            kwargs[param] = _filter_value(target, param, name, value)
    try:
        page = await target["list"](session, actor=actor, **kwargs)
    except (TypeError, ValidationError):
        raise Invalid("an argument of this widget has the wrong type", field="expr") from None
    return [item.model_dump(mode="json") for item in page.items]


def parse_expr(expr: str) -> Widget:
    """The widget ``expr`` spells; ``Invalid`` (422) saying what is wrong otherwise."""
    try:
        return parse(expr)
    except WidgetError as exc:
        raise Invalid(f"not a widget: {exc}", field="expr") from None


async def run_widget(session: AsyncSession, actor: Actor, expr: str) -> WidgetRendered:
    """One widget of a post for the viewer: its items, or the refusal as an inline error."""
    try:
        widget = parse_expr(expr)
        target = _target(widget)
        items = await render_widget(session, actor, widget)
    except DomainError as exc:
        status = status_and_title(exc)[0]
        return WidgetFailed(expr=expr, error=WidgetProblem(status=status, detail=exc.detail))
    return WidgetShown(expr=expr, type=str(target["type"]), items=items)


async def run_widgets(
    session: AsyncSession, actor: Actor, exprs: list[str] | None
) -> list[WidgetRendered]:
    """Each widget in order, the first ``MAX_WIDGETS`` run, the rest refused inline."""
    shown: list[WidgetRendered] = []
    for i, expr in enumerate(exprs or []):
        shown.append(
            beyond_limit(expr) if i >= MAX_WIDGETS else await run_widget(session, actor, expr)
        )
    return shown


def beyond_limit(expr: str) -> WidgetFailed:
    """The inline refusal of a widget past the first ``MAX_WIDGETS`` of a post or page."""
    detail = f"only the first {MAX_WIDGETS} widgets are shown"
    return WidgetFailed(expr=expr, error=WidgetProblem(status=422, detail=detail))


async def render_post(session: AsyncSession, actor: Actor, post: PostRead) -> RenderedPost:
    """``post`` (already read by ``actor``) with its text as safe HTML and its widgets run."""
    html = await markdown.to_html_async(post.text)
    widgets = await run_widgets(session, actor, post.widgets)
    return RenderedPost.model_construct(**dict(post), text_html=str(html), widgets_rendered=widgets)
