"""Markdown of posts and pages into HTML that is safe to put in a page as it is.

CommonMark (markdown-it-py) with strikethrough, configured so that nothing a writer types
becomes markup of their own: raw HTML is shown as text; a link keeps its address only when
it is ``http``, ``https``, ``mailto`` or relative (``javascript:``, ``data:``, ``vbscript:``
and every other scheme leave plain text), and carries ``rel="nofollow noopener ugc"``; an
image is shown only from this server's ``/blobs/<cid>`` (the reader's own access applies),
any other becomes a link to it; headings start at ``h3``, below the page's own.

Rendering is pure CPU and can take most of a second on 20,000 hostile characters, so the
results are kept by text (a small LRU: a post read again costs a lookup), and the async
form renders what is not kept in a thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import Markup, escape

SCHEMES = ("http", "https", "mailto")
REL = "nofollow noopener ugc"
CACHE_SIZE = 512
HEADING_SHIFT = 2  # "# Title" becomes <h3>: the page has its h1, and its sections h2
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_BLOB = re.compile(r"^/blobs/b[a-z2-7]{20,100}$")


def _allowed(url: str) -> bool:
    """Whether a (normalised, entity-decoded) address may be a link's or image's: one of
    ``SCHEMES`` or relative. Control characters and spaces are percent-encoded by then, so
    ``java\\tscript:`` is no scheme at all (and a browser reads it as a relative path)."""
    found = _SCHEME.match(url.strip())
    return found is None or found.group(1).lower() in SCHEMES


def _shift_headings(state: StateCore) -> None:
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            level = min(int(token.tag[1]) + HEADING_SHIFT, 6)
            token.tag = f"h{level}"


def _link_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    tokens[idx].attrSet("rel", REL)
    return self.renderToken(tokens, idx, options, env)


def _image(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    alt = self.renderInlineAsText(token.children or [], options, env)
    if _BLOB.fullmatch(src):
        return f'<img src="{escape(src)}" alt="{escape(alt)}" loading="lazy">'
    return f'<a href="{escape(src)}" rel="{REL}">{escape(alt or src)}</a>'


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("strikethrough")
    md.disable(["html_block", "html_inline"])  # shown as text, never as markup
    md.validateLink = _allowed  # type: ignore[method-assign]
    md.core.ruler.push("shift_headings", _shift_headings)
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("image", _image)
    return md


_MD = _parser()


_cache: OrderedDict[str, str] = OrderedDict()
_lock = threading.Lock()


def _kept(text: str) -> str | None:
    with _lock:
        html = _cache.get(text)
        if html is not None:
            _cache.move_to_end(text)
        return html


def _render(text: str) -> str:
    html = _MD.render(text)
    with _lock:
        _cache[text] = html
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return html


def to_html(text: str | None) -> Markup:
    """``text`` (Markdown) as HTML safe to insert into a page unescaped."""
    if not text:
        return Markup("")
    html = _kept(text)
    return Markup(html if html is not None else _render(text))  # noqa: S704 (made safe above)


async def to_html_async(text: str | None) -> Markup:
    """:func:`to_html`, rendering in a thread what is not already kept."""
    if not text:
        return Markup("")
    html = _kept(text)
    if html is None:
        html = await asyncio.to_thread(_render, text)
    return Markup(html)  # noqa: S704 (made safe above: no raw HTML, checked links)
