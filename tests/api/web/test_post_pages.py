"""A post's page in a real browser (see ``test_browser``): its Markdown rendered, markup
typed into it shown as text and never run, its widgets' items as links for the viewer,
and a widget the viewer may not see as an inline error; a page's blocks over HTTP.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.web.test_browser import Tab, chromium, register, sign_in
from tests.conftest import LiveServer
from tests.webkit import HTML, inline_code
from tests.webkit import sign_in as sign_in_http

__all__ = ["chromium"]

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])

TEXT = (
    "# From the harbour\n\n"
    'New **work** <script>window.pwned=1</script> and <img src=x onerror="window.pwned=2">\n\n'
    "[click me](javascript:window.pwned=3) · [the studio](https://example.org/studio)"
)


def made(server: LiveServer, path: str, body: dict[str, Any]) -> str:
    """A record made over the API as the server's user, public."""
    reply = httpx.post(server.url + path, json=body, headers=server.headers)
    assert reply.status_code == 201, reply.text
    ident = str(reply.json()["id"])
    shown = httpx.patch(
        f"{server.url}{path}/{ident}", json={"visibility": "public"}, headers=server.headers
    )
    assert shown.status_code == 200, shown.text
    return ident


def test_a_post_page_renders_markdown_and_widgets(live_server: LiveServer, chromium: Any) -> None:
    made(live_server, "/api/v1/artists", {"name": {"full": "Astrid Holm"}})
    private = httpx.post(
        live_server.url + "/api/v1/artists",
        json={"name": {"full": "Cato Privat"}},
        headers=live_server.headers,
    ).json()["id"]
    author = made(live_server, "/api/v1/profiles", {"handle": "ann", "display_name": "Ann"})
    widgets = ['art.artists.list(sort="name.full")', f"art.artists.id = '{private}'"]
    post_id = made(
        live_server, "/api/v1/posts", {"profile": author, "text": TEXT, "widgets": widgets}
    )

    context = chromium.new_context()
    try:
        tab = Tab(context, live_server, "post")
        page = tab.page
        sign_in(tab, "live-user")
        tab.go(f"/posts/{post_id}")
        post = page.locator("article.rendered")
        assert post.get_by_role("heading", name="From the harbour").count() == 1
        assert page.get_by_role("heading", level=1).inner_text() == "Post by ann"
        assert post.locator("strong").inner_text() == "work"
        assert post.get_by_text("<script>window.pwned=1</script>").count() == 1
        assert page.evaluate("window.pwned") is None
        assert page.locator("img[src='x']").count() == 0
        assert post.get_by_role("link", name="click me").count() == 0  # no javascript: link
        studio = post.get_by_role("link", name="the studio")
        assert studio.get_attribute("href") == "https://example.org/studio"
        assert studio.get_attribute("rel") == "nofollow noopener ugc"
        listed = post.locator(".widget").nth(0)
        assert listed.get_by_role("link").all_inner_texts() == ["Astrid Holm", "Cato Privat"]
        assert post.locator(".widget").nth(1).get_by_role("link").inner_text() == "Cato Privat"
        assert post.locator(".widget-error").count() == 0
        tab.shoot("author")
        listed.get_by_role("link", name="Astrid Holm").click()
        page.get_by_role("heading", level=1, name="Astrid Holm").wait_for()
        tab.clean()
    finally:
        context.close()

    other = chromium.new_context()
    try:
        tab = Tab(other, live_server, "post-reader")
        page = tab.page
        register(tab, "reader")
        tab.go(f"/posts/{post_id}")
        post = page.locator("article.rendered")
        assert post.locator(".widget").nth(0).get_by_role("link").all_inner_texts() == [
            "Astrid Holm"
        ]  # Cato is private to the author
        error = post.locator(".widget").nth(1).locator(".widget-error")
        assert "(404)" in error.inner_text()
        assert private in error.inner_text()
        assert page.get_by_text("Cato Privat").count() == 0
        assert page.evaluate("window.pwned") is None
        tab.shoot("reader")
        tab.clean()
    finally:
        other.close()


def test_a_pages_blocks_are_rendered_in_order(live_server: LiveServer) -> None:
    made(live_server, "/api/v1/artists", {"name": {"full": "Astrid Holm"}})
    author = made(live_server, "/api/v1/profiles", {"handle": "ann", "display_name": "Ann"})
    blocks = [
        {"kind": "text", "text": "## Studio\n\nWe *paint* <b onclick=x>here</b>."},
        {"kind": "widget", "widget": "art.artists.list(limit=2)"},
        *({"kind": "widget", "widget": "art.planets.list()"} for _ in range(10)),
    ]
    page_id = made(
        live_server, "/api/v1/pages", {"profile": author, "title": "About", "blocks": blocks}
    )
    with httpx.Client(base_url=live_server.url) as http:
        sign_in_http(http, "live-user")
        html = http.get(f"/pages/{page_id}", headers=HTML).text
    assert inline_code(html) == []
    rendered = html[html.index('<article class="card rendered"') : html.index("</article>")]
    assert "<h4>Studio</h4>" in rendered
    assert "We <em>paint</em> &lt;b onclick=x&gt;here&lt;/b&gt;." in rendered
    assert rendered.index("<h4>Studio</h4>") < rendered.index("Astrid Holm")
    assert '<a class="linked" href="/artists/' in rendered
    assert rendered.count("is not something widgets show") == 9  # 10 widgets run at most
    assert rendered.count("only the first 10 widgets are shown") == 1
    assert "<dt>Blocks</dt>" not in html  # shown rendered, not as a field list


def test_the_posts_list_names_each_post_by_its_first_line_cut_short(
    live_server: LiveServer,
) -> None:
    author = made(live_server, "/api/v1/profiles", {"handle": "ann", "display_name": "Ann"})
    long_line = "A walk along the harbour wall at dawn, " * 6
    made(live_server, "/api/v1/posts", {"profile": author, "text": f"{long_line}\n\nMore below."})
    made(live_server, "/api/v1/posts", {"profile": author, "text": "Short one\nsecond line"})
    with httpx.Client(base_url=live_server.url) as http:
        sign_in_http(http, "live-user")
        html = http.get("/posts", headers=HTML).text
    cut = "A walk along the harbour wall at dawn, A walk along the harbour wall at dawn, A…"
    assert cut in html
    assert long_line.strip() not in html  # the whole first line is never the title
    assert "More below." not in html
    assert "Short one" in html
    assert "second line" not in html
