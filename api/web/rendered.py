"""What a post's or a page's own page shows above its fields: the Markdown rendered to safe
HTML and each widget's items as links (or the inline error the viewer gets instead), in
order, as ``api.widgets`` renders them for the API.

Widgets run with the viewer's permissions; their items link to their own pages, with a
thumbnail where the item's model has a cover image the viewer may read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from markupsafe import Markup
from sqlmodel.ext.asyncio.session import AsyncSession

from api.widgets import (
    MAX_WIDGETS,
    WidgetFailed,
    WidgetProblem,
    WidgetRendered,
    beyond_limit,
    run_widget,
)
from mcore.access import Actor
from msocial.markdown import to_html_async

if TYPE_CHECKING:
    from api.web.records import Resolver


@dataclass
class WidgetView:
    """One widget as the page shows it: linked items (address, title, thumbnail), or why not."""

    expr: str
    label: str = ""
    items: list[tuple[str, str, str | None]] = field(default_factory=list)
    error: WidgetProblem | None = None


@dataclass
class Block:
    kind: str  # text, image or widget
    html: Markup = field(default_factory=Markup)
    image: str | None = None
    widget: WidgetView | None = None


@dataclass
class Rendered:
    """The rendered blocks, the fields they stand for (left out of the field list), and
    the page's title when the model's own would be the whole text (a post's)."""

    blocks: list[Block]
    fields: frozenset[str]
    title: str | None = None


async def _widget_view(
    session: AsyncSession, actor: Actor, resolver: Resolver, shown: WidgetRendered
) -> WidgetView:
    if isinstance(shown, WidgetFailed):
        return WidgetView(expr=shown.expr, error=shown.error)
    model = resolver.by_name.get(shown.type)  # keyed by `$type` as well as by name
    if model is None:  # a type with no pages: its items by id
        return WidgetView(
            expr=shown.expr, items=[("", str(i.get("id", "")), None) for i in shown.items]
        )
    covers = await resolver.covers(session, actor, model, shown.items)
    items = [
        (f"{model.route}/{i['id']}", model.title_of(i), covers.get(i["id"])) for i in shown.items
    ]
    return WidgetView(expr=shown.expr, label=model.plural_label, items=items)


class _Widgets:
    """Runs a record's widgets in order, the first ``MAX_WIDGETS`` of them."""

    def __init__(self, session: AsyncSession, actor: Actor, resolver: Resolver) -> None:
        self.session, self.actor, self.resolver = session, actor, resolver
        self.count = 0

    async def view(self, expr: str) -> WidgetView:
        self.count += 1
        if self.count > MAX_WIDGETS:
            shown: WidgetRendered = beyond_limit(expr)
        else:
            shown = await run_widget(self.session, self.actor, expr)
        return await _widget_view(self.session, self.actor, self.resolver, shown)


async def _post(
    record: Mapping[str, Any], widgets: _Widgets, titles: Mapping[str, tuple[str, str]]
) -> Rendered:
    blocks = [Block("text", html=await to_html_async(record.get("text")))]
    for expr in record.get("widgets") or []:
        blocks.append(Block("widget", widget=await widgets.view(str(expr))))
    author = titles.get(str(record.get("profile")))
    title = f"Post by {author[1]}" if author else "Post"
    return Rendered(blocks, frozenset({"text", "widgets"}), title)


async def _page(
    record: Mapping[str, Any], widgets: _Widgets, thumbs: Mapping[str, str]
) -> Rendered:
    blocks: list[Block] = []
    for block in record.get("blocks") or []:
        kind = block.get("kind")
        if kind == "text":
            blocks.append(Block("text", html=await to_html_async(block.get("text"))))
        elif kind == "image" and block.get("image"):
            blocks.append(Block("image", image=thumbs.get(str(block["image"]))))
        elif kind == "widget" and block.get("widget"):
            blocks.append(Block("widget", widget=await widgets.view(str(block["widget"]))))
    return Rendered(blocks, frozenset({"blocks"}))


async def rendered(
    session: AsyncSession,
    actor: Actor,
    resolver: Resolver,
    type_name: str,
    record: Mapping[str, Any],
    linked: Mapping[str, Any],
) -> Rendered | None:
    """The rendered view of a post or page (``type_name``), None for other models."""
    widgets = _Widgets(session, actor, resolver)
    if type_name == "msocial/post":
        return await _post(record, widgets, linked.get("titles") or {})
    if type_name == "msocial/page":
        return await _page(record, widgets, linked.get("thumbs") or {})
    return None
