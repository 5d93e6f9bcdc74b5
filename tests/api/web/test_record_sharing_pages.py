"""Sharing records through the pages' plain forms (no script), over real HTTP: the Share
action only for who may share, the dialog's forms and their refusals in words, "Shared
with me" naming a record by its model, and what each level lets a recipient do to it."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.api.web.test_folder_pages import XSS, ada, bob
from tests.conftest import LiveServer
from tests.webkit import HTML, csrf_of, inline_code

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])
__all__ = ["ada", "bob"]  # the two accounts of the folder pages' tests


def post(http: httpx.Client, path: str, at: str, **fields: str) -> httpx.Response:
    """Send a page's form: ``at`` is the page that carries it (for its CSRF token)."""
    token = csrf_of(http.get(at, headers=HTML).text)
    return http.post(path, data={"csrf_token": token, **fields}, headers=HTML)


def make_artist(http: httpx.Client, full: str) -> str:
    made = post(http, "/artists/new", "/artists/new", **{"name.full": full})
    assert made.status_code == 303, made.text
    found = re.fullmatch(r"/artists/(bafyr4i[a-z2-7]+)\?done=created", made.headers["location"])
    assert found, made.headers["location"]
    return found.group(1)


def shares_of(live_server: LiveServer, http: httpx.Client, record: str) -> list[dict[str, str]]:
    """The live shares of a record, as its owner's API sees them."""
    reply = http.get(
        "/api/v1/shares",
        params={"with": "others", "object_type": "record", "object_id": record},
    )
    assert reply.status_code == 200, reply.text
    return list(reply.json()["items"])


def actions(html: str) -> list[str]:
    """The labels of the links in a detail page's action bar."""
    bar = re.search(r'<div class="actions">(.*?)</div>', html, re.S)
    assert bar, html
    return re.findall(r"<a [^>]*>([^<]+)</a>", bar.group(1))


def test_share_a_record_with_plain_forms(
    live_server: LiveServer, ada: httpx.Client, bob: httpx.Client
) -> None:
    artist = make_artist(ada, XSS)
    page = f"/artists/{artist}"
    mine = ada.get(page, headers=HTML)
    assert actions(mine.text) == ["Edit", "Share", "History", "Delete"]
    assert f'href="/share/record/{artist}?next={page}" data-share' in mine.text
    assert inline_code(mine.text) == []

    # the dialog, as a page of its own: the record's model and title, escaped
    dialog = ada.get(f"/share/record/{artist}?next={page}", headers=HTML)
    assert dialog.status_code == 200
    assert "Share artist “&lt;img src=x onerror=&#34;document.title=1&#34;&gt;”" in dialog.text
    assert XSS not in dialog.text
    assert "Edit: also save new versions" in dialog.text
    assert f'<a href="{page}">← Back to' in dialog.text

    # refusals in words, nothing made
    at = f"/share/record/{artist}"
    nobody = post(ada, at, at, username="nobody-here", level="view", next=page)
    assert nobody.status_code == 404
    assert "no account with that id, username or email" in nobody.text
    bad_level = post(ada, at, at, username="bob", level="own", next=page)
    assert bad_level.status_code == 422
    old_day = post(ada, at, at, username="bob", level="view", expires_on="2001-01-01")
    assert old_day.status_code == 422
    assert "expires_at is in the past" in old_day.text
    assert shares_of(live_server, ada, artist) == []
    no_token = ada.post(at, data={"username": "bob", "level": "view"}, headers=HTML)
    assert no_token.status_code == 403
    assert shares_of(live_server, ada, artist) == []

    # bob sees nothing before it is shared
    assert bob.get(page, headers=HTML).status_code == 404
    assert bob.get(at, headers=HTML).status_code == 404

    # shared at view: back to the record's page, listed for bob with its model's name
    shared = post(ada, at, at, username="bob", level="view", next=page)
    assert shared.status_code == 303
    assert shared.headers["location"] == f"{page}#share"
    [share] = shares_of(live_server, ada, artist)
    assert share["level"] == "view"
    listing = bob.get("/shared", headers=HTML).text
    assert f'<a href="{page}">&lt;img src=x onerror=&#34;document.title=1&#34;&gt;</a>' in listing
    assert "artist · you may view" in listing
    assert XSS not in listing

    # view: no Edit, Share or Delete; the edit form and its POST are the 403 page
    seen = bob.get(page, headers=HTML)
    assert seen.status_code == 200
    assert actions(seen.text) == ["History"]
    assert "Make public" not in seen.text
    assert "Revert to this" not in bob.get(f"{page}/history", headers=HTML).text
    refused = bob.get(f"{page}/edit", headers=HTML)
    assert refused.status_code == 403
    assert "you may view this artist; to update it needs edit" in refused.text
    sent = post(bob, f"{page}/edit", page, **{"name.full": "Bob was here"})
    assert sent.status_code == 403
    assert ">Not allowed</h1>" in sent.text
    assert "you may view this artist; to update it needs edit" in sent.text
    assert ada.get(f"/api/v1/artists/{artist}").json()["n"] == 1
    not_theirs = bob.get(at, headers=HTML)
    assert "You may see this artist but not share it" in not_theirs.text
    resharing = post(bob, at, page, username="ada", level="view")
    assert resharing.status_code == 403
    assert "to share it needs manage" in resharing.text

    # edit: the Edit action and a new version, but not who may see it
    raised = post(ada, f"{at}/{share['id']}/level", at, level="edit", next=page)
    assert raised.status_code == 303
    seen = bob.get(page, headers=HTML)
    assert actions(seen.text) == ["Edit", "History"]
    form = bob.get(f"{page}/edit", headers=HTML)
    assert form.status_code == 200
    assert 'name="visibility"' not in form.text
    head = re.search(r'name="head" value="([a-z0-9]+)"', form.text)
    assert head
    public = post(
        bob, f"{page}/edit", page, head=head.group(1), visibility="public", **{"name.full": XSS}
    )
    assert public.status_code == 403  # changing who sees it needs manage
    assert "to share it needs manage" in public.text
    assert ada.get(f"/api/v1/artists/{artist}").json()["visibility"] == "private"
    saved = post(
        bob, f"{page}/edit", page, head=head.group(1), **{"name.full": XSS, "bio": "By bob"}
    )
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"{page}?done=saved"
    read = ada.get(f"/api/v1/artists/{artist}").json()
    assert (read["n"], read["bio"], read["visibility"]) == (2, "By bob", "private")

    # revoked: bob's next look is the not-found page, and nothing is listed
    revoked = post(ada, f"{at}/{share['id']}/revoke", at, next=page)
    assert revoked.status_code == 303
    assert shares_of(live_server, ada, artist) == []
    assert bob.get(page, headers=HTML).status_code == 404
    assert "Nothing is shared with you yet." in bob.get("/shared", headers=HTML).text


def test_a_deleted_shared_record_is_named_as_gone(ada: httpx.Client, bob: httpx.Client) -> None:
    artist = make_artist(ada, "Brief")
    at = f"/share/record/{artist}"
    assert post(ada, at, at, username="bob", level="manage").status_code == 303
    seen = bob.get(f"/artists/{artist}", headers=HTML)
    assert actions(seen.text) == ["Edit", "Share", "History", "Delete"]  # manage: all of them
    gone = post(bob, f"/artists/{artist}/delete", f"/artists/{artist}/delete")
    assert gone.status_code == 303
    listing = bob.get("/shared", headers=HTML).text
    assert "a record that was deleted" in listing
    assert "Brief" not in listing
    assert bob.get(at, headers=HTML).status_code == 404
