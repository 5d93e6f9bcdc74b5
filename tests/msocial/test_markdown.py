"""Markdown of posts: what a writer types never becomes markup of their own."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from msocial.markdown import REL, to_html, to_html_async

CID = "bafkr4ideg6z2yocgkez77nr3outtvdnvjdcvqrs5phnqh7jvtrwnlpm5qu"


class Elements(HTMLParser):
    """Every element and attribute of some HTML, as a browser's parser finds them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def tags(html: str) -> set[str]:
    return {tag for tag, _ in Elements(html).found}


def attributes(html: str) -> set[str]:
    return {name for _, attrs in Elements(html).found for name in attrs}


def test_markdown_becomes_html() -> None:
    html = to_html(
        "# Harbour\n\n**bold** _it_ ~~gone~~ `code`\n\n- one\n- two\n\n> quoted\n\n"
        "[site](https://example.org) [page](/artists/x) <https://a.org> [mail](mailto:a@b.c)"
    )
    assert html.startswith("<h3>Harbour</h3>")  # below the page's h1 and h2
    for element in ("<strong>bold</strong>", "<em>it</em>", "<s>gone</s>", "<code>code</code>"):
        assert element in html
    assert tags(html) == {"h3", "p", "strong", "em", "s", "code", "ul", "li", "blockquote", "a"}
    for href in ("https://example.org", "/artists/x", "https://a.org", "mailto:a@b.c"):
        assert f'<a href="{href}" rel="{REL}">' in html
    assert to_html("") == ""
    assert to_html(None) == ""


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        "<div onclick=alert(1)>\n\nblock\n\n</div>",
        "<iframe src=https://evil.org></iframe>",
        "<style>body{display:none}</style>",
        "<svg onload=alert(1)>",
        "<!-- <script>alert(1)</script> -->",
        "text <b onmouseover=alert(1)>inline</b> html",
    ],
)
def test_raw_html_is_shown_as_text(text: str) -> None:
    html = to_html(text)
    assert tags(html) <= {"p"}, html
    assert "&lt;" in html


@pytest.mark.parametrize(
    "text",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](javascript&#58;alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](<javascript:alert(1)>)",
        "<javascript:alert(1)>",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[x](file:///etc/passwd)",
        "[x][r]\n\n[r]: javascript:alert(1)",
        "![x](data:image/svg+xml;base64,PHN2Zz4=)",
        "![x](javascript:alert(1))",
    ],
)
def test_dangerous_links_lose_their_address(text: str) -> None:
    html = to_html(text)
    assert tags(html) == {"p"}, html
    assert attributes(html) == set()


def test_a_scheme_hidden_by_a_tab_is_no_scheme() -> None:
    html = to_html("[x](java\tscript:alert(1))")
    assert 'href="javascript' not in html.replace("%09", "")


def test_attributes_cannot_be_broken_out_of() -> None:
    html = to_html('[t"x" onclick="1](https://a.org/"onmouseover="alert(1) "title")')
    assert attributes(html) == {"href", "rel", "title"}, html
    assert dict(Elements(html).found)["a"]["href"] == "https://a.org/%22onmouseover=%22alert(1)"
    image = to_html(f'![a" onerror="alert(1)](/blobs/{CID})')
    assert re.fullmatch(
        rf'<p><img src="/blobs/{CID}" alt="a&#34; onerror=&#34;alert\(1\)" loading="lazy"></p>\n',
        image,
    ), image


def test_images_come_only_from_our_blobs() -> None:
    own = to_html(f"![cat](/blobs/{CID})")
    assert f'<img src="/blobs/{CID}" alt="cat" loading="lazy">' in own
    foreign = to_html("![tracker](https://evil.org/pixel.png)")
    assert "<img" not in foreign
    assert f'<a href="https://evil.org/pixel.png" rel="{REL}">tracker</a>' in foreign
    assert "<img" not in to_html("![x](/api/v1/auth/logout)")


async def test_the_async_form_renders_the_same() -> None:
    text = "**once** [a](https://a.org) <script>"
    assert await to_html_async(text) == to_html(text)
    fresh = "a text rendered first in a thread: *yes*"
    assert await to_html_async(fresh) == "<p>a text rendered first in a thread: <em>yes</em></p>\n"
