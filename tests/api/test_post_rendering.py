"""Posts read rendered over HTTP: their Markdown as safe HTML and their widgets run with
the viewer's permissions, a widget the viewer cannot see shown as an inline error."""

from __future__ import annotations

from typing import Any

from tests.api.test_social import post, profile
from tests.conftest import AuthedClient, MakeClient

HOSTILE = (
    "Hello **world** <script>window.pwned=1</script> <img src=x onerror=alert(1)>\n\n"
    "[click](javascript:alert(1)) [data](data:text/html,<b>x</b>) [ok](https://example.org)"
)


async def artist(http: AuthedClient, name: str, *, public: bool) -> str:
    made = await http.post("/api/v1/artists", json={"name": {"full": name}})
    assert made.status_code == 201, made.text
    if public:
        await http.patch(f"/api/v1/artists/{made.json()['id']}", json={"visibility": "public"})
    return str(made.json()["id"])


async def rendered(http: AuthedClient, post_id: str) -> dict[str, Any]:
    reply = await http.get(f"/api/v1/posts/{post_id}/rendered")
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


async def test_a_posts_markdown_is_rendered_safely(make_client: MakeClient) -> None:
    ann = await make_client("user")
    author = await profile(ann, "ann")
    made = await post(ann, author["id"], HOSTILE)
    for reader in (ann, await make_client(None)):  # the author and a guest read the same
        body = await rendered(reader, made["id"])
        assert body["text"] == HOSTILE  # the source is kept as written
        assert body["id"] == made["id"]
        assert body["profile"] == author["id"]
        html = body["text_html"]
        assert "<strong>world</strong>" in html
        assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in html
        assert "<script" not in html
        assert "<img" not in html
        assert "javascript:" not in html.replace("[click](javascript:", "")
        assert 'href="data:' not in html
        assert '<a href="https://example.org" rel="nofollow noopener ugc">ok</a>' in html
        assert body["widgets_rendered"] == []


async def test_widgets_of_a_post_run_for_the_viewer(make_client: MakeClient) -> None:
    ann = await make_client("user")
    bob = await make_client("user")
    seen = await artist(ann, "Astrid", public=True)
    private = await artist(ann, "Cato", public=False)
    author = await profile(ann, "ann")
    widgets = [
        'art.artists.list(sort="name.full", limit=6)',
        f"art.artists.id = '{private}'",
        "art.planets.list()",  # parses, but names nothing widgets show
        'art.artists.list(colour="red")',
    ]
    made = await post(ann, author["id"], "My artists", widgets=widgets)

    mine = (await rendered(ann, made["id"]))["widgets_rendered"]
    assert [w["expr"] for w in mine] == widgets
    assert mine[0]["type"] == "mart/artist"
    assert [i["name"]["full"] for i in mine[0]["items"]] == ["Astrid", "Cato"]
    assert [i["id"] for i in mine[1]["items"]] == [private]

    theirs = (await rendered(bob, made["id"]))["widgets_rendered"]
    assert [i["id"] for i in theirs[0]["items"]] == [seen]  # Cato is private to ann
    assert "items" not in theirs[1]
    assert theirs[1]["error"]["status"] == 404
    assert private in theirs[1]["error"]["detail"]
    assert theirs[2] == {
        "expr": widgets[2],
        "error": {"status": 422, "detail": "art.planets is not something widgets show"},
    }
    assert theirs[3]["error"]["status"] == 422
    assert "colour" in theirs[3]["error"]["detail"]
    # the widgets route answers the same refusals as whole responses
    refused = await bob.get("/api/v1/widgets/render", params={"expr": widgets[1]})
    assert refused.status_code == 404
    assert refused.json()["detail"] == theirs[1]["error"]["detail"]


async def test_a_guest_sees_the_public_items_of_widgets(make_client: MakeClient) -> None:
    ann = await make_client("user")
    author = await profile(ann, "ann")
    await artist(ann, "Astrid", public=True)
    made = await post(ann, author["id"], "one", widgets=["art.artists.list()"])
    guest = await make_client(None)
    shown = (await rendered(guest, made["id"]))["widgets_rendered"]
    assert [i["name"]["full"] for i in shown[0]["items"]] == ["Astrid"]


async def test_an_unreadable_post_is_404(make_client: MakeClient) -> None:
    ann = await make_client("user")
    bob = await make_client("user")
    author = await profile(ann, "ann")
    made = await ann.post("/api/v1/posts", json={"profile": author["id"], "text": "secret"})
    assert made.status_code == 201
    assert (await bob.get(f"/api/v1/posts/{made.json()['id']}/rendered")).status_code == 404
    assert (await bob.get("/api/v1/posts/bafyr4inothing/rendered")).status_code == 404


async def test_feeds_render_on_request(make_client: MakeClient) -> None:
    ann = await make_client("user")
    bob = await make_client("user")
    await artist(ann, "Astrid", public=True)
    await artist(ann, "Cato", public=False)
    author = await profile(ann, "ann")
    for i in range(23):
        await post(ann, author["id"], f"post *{i}*", widgets=["art.artists.list()"])
    url = f"/api/v1/feeds/profiles/{author['id']}"
    plain = (await bob.get(url, params={"limit": 30})).json()
    assert len(plain["items"]) == 23
    assert plain["items"][0]["text"] == "post *22*"
    assert plain["items"][0]["text_html"] is None
    assert plain["items"][0]["widgets_rendered"] is None
    page = (await bob.get(url, params={"limit": 30, "render": "true"})).json()
    assert len(page["items"]) == 20  # a rendered page holds at most 20
    assert page["items"][0]["text_html"] == "<p>post <em>22</em></p>\n"
    assert [i["name"]["full"] for i in page["items"][0]["widgets_rendered"][0]["items"]] == [
        "Astrid"
    ]
    rest = (await bob.get(url, params={"render": "true", "cursor": page["next"]})).json()
    assert [p["text"] for p in rest["items"]] == ["post *2*", "post *1*", "post *0*"]
    assert rest["next"] is None
