"""The folder, sharing and group pages over real HTTP with plain forms (no script): what a
browser without JavaScript gets, refusals in words, escaping, and what another account
may not see."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.api.web.test_pages import register
from tests.conftest import LiveServer
from tests.webkit import HTML, csrf_of, inline_code

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])
XSS = '<img src=x onerror="document.title=1">'


@pytest.fixture
def ada(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url) as http:
        assert register(http, "ada").status_code == 303
        yield http


@pytest.fixture
def bob(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url) as http:
        assert register(http, "bob").status_code == 303
        yield http


def root_of(http: httpx.Client) -> str:
    page = http.get("/folders", headers=HTML)
    assert page.status_code == 200
    found = re.search(r'href="/folders/([0-9a-z]{26})" class="strong">My files<', page.text)
    assert found, page.text
    return found.group(1)


def post(http: httpx.Client, path: str, at: str, **fields: str) -> httpx.Response:
    """Send a page's form: ``at`` is the page that carries it (for its CSRF token)."""
    token = csrf_of(http.get(at, headers=HTML).text)
    return http.post(path, data={"csrf_token": token, **fields}, headers=HTML)


def make(http: httpx.Client, parent: str, name: str) -> str:
    made = post(http, f"/folders/{parent}/folders", f"/folders/{parent}", name=name)
    assert made.status_code == 303, made.text
    found = re.fullmatch(r"/folders/([0-9a-z]{26})\?done=made", made.headers["location"])
    assert found, made.headers["location"]
    return found.group(1)


def test_folders_with_plain_forms_escape_and_refuse_in_words(ada: httpx.Client) -> None:
    root = root_of(ada)
    outer = make(ada, root, XSS)
    inner = make(ada, outer, "Inner")
    page = ada.get(f"/folders/{inner}", headers=HTML)
    assert page.status_code == 200
    assert inline_code(page.text) == []
    assert XSS not in page.text
    assert "&lt;img src=x onerror=&#34;document.title=1&#34;&gt;" in page.text
    crumbs = re.search(r'<nav aria-label="Breadcrumbs".*?</nav>', page.text, re.S)
    assert crumbs
    assert re.findall(r'href="/folders/([0-9a-z]{26})"', crumbs.group(0)) == [root, outer, inner]
    twin = post(ada, f"/folders/{outer}/folders", f"/folders/{outer}", name="inner")
    assert twin.status_code == 409
    assert "this folder already holds a folder named &#39;inner&#39;" in twin.text
    assert 'role="alert"' in twin.text
    renamed = post(ada, f"/folders/{inner}/rename", f"/folders/{inner}", name="Renamed")
    assert renamed.status_code == 303
    assert "<h1>Renamed</h1>" in ada.get(f"/folders/{inner}", headers=HTML).text
    # no form goes through without the page's token
    refused = ada.post(f"/folders/{outer}/folders", data={"name": "x"}, headers=HTML)
    assert refused.status_code == 403
    assert 'title="x">x</span>' not in ada.get(f"/folders/{outer}", headers=HTML).text


def test_delete_then_restore_from_the_folder_it_was_in(ada: httpx.Client) -> None:
    root = root_of(ada)
    doomed = make(ada, root, "Old proofs")
    make(ada, doomed, "Inside")
    page = ada.get(f"/folders/{doomed}", headers=HTML)
    assert "restored for 30 days" in page.text
    gone = post(ada, f"/folders/{doomed}/delete", f"/folders/{doomed}")
    assert gone.status_code == 303
    assert gone.headers["location"] == f"/folders/{root}?done=trashed"
    there = ada.get(gone.headers["location"], headers=HTML)
    assert "The folder went to the trash, with everything in it." in there.text
    assert 'aria-label="Restore Old proofs"' in there.text
    assert ada.get(f"/folders/{doomed}", headers=HTML).status_code == 404
    back = post(ada, f"/folders/{doomed}/restore", f"/folders/{root}", back=root)
    assert back.status_code == 303
    restored = ada.get(back.headers["location"], headers=HTML)
    assert "The folder is back" in restored.text
    assert ">Inside</span>" in restored.text
    assert "Restore Old proofs" not in ada.get(f"/folders/{root}", headers=HTML).text


def test_another_account_sees_nothing_until_shared(ada: httpx.Client, bob: httpx.Client) -> None:
    root = root_of(ada)
    secret = make(ada, root, "Secret plans")
    for path in (f"/folders/{secret}", f"/share/folder/{secret}", f"/folders/{root}"):
        page = bob.get(path, headers=HTML)
        assert page.status_code == 404, path
        assert "Secret plans" not in page.text
    shared = post(
        ada,
        f"/share/folder/{secret}",
        f"/share/folder/{secret}",
        username="bob",
        level="edit",
        expires_on="2999-01-31",
        next=f"/folders/{secret}",
    )
    assert shared.status_code == 303
    assert shared.headers["location"] == f"/folders/{secret}#share"
    dialog = ada.get(f"/share/folder/{secret}?partial=true", headers=HTML)
    assert dialog.status_code == 200
    assert "<html" not in dialog.text  # the fragment the dialog shows
    assert "edit · until 2999-02-01 00:00 UTC · shared by ada" in dialog.text
    listing = bob.get("/shared", headers=HTML)
    assert f'<a href="/folders/{secret}">Secret plans</a>' in listing.text
    assert "you may edit" in listing.text
    opened = bob.get(f"/folders/{secret}", headers=HTML)
    assert opened.status_code == 200
    assert "Upload here" in opened.text  # edit adds files
    assert "Delete this folder" not in opened.text  # manage deletes
    refused = post(bob, f"/share/folder/{secret}", f"/folders/{secret}", username="ada")
    assert refused.status_code == 403
    bad_day = post(
        ada, f"/share/folder/{secret}", f"/share/folder/{secret}", username="bob", expires_on="soon"
    )
    assert bad_day.status_code == 422
    assert "give the expiry as a date, like 2027-01-31" in bad_day.text


def test_groups_pages_refuse_in_words(ada: httpx.Client, bob: httpx.Client) -> None:
    made = post(ada, "/groups", "/groups", name="Studio")
    assert made.status_code == 303
    group = made.headers["location"].split("?")[0]
    assert bob.get(group, headers=HTML).status_code == 404
    twice = post(ada, "/groups", "/groups", name="studio")
    assert twice.status_code == 409
    assert 'role="alert"' in twice.text
    added = post(ada, f"{group}/members", group, who="bob", role="member")
    assert added.status_code == 303
    page = bob.get(group, headers=HTML)
    assert page.status_code == 200
    assert "Add a member" not in page.text  # members do not add members
    alone = post(ada, f"{group}/members/{_id_of(ada)}/remove", group)
    assert alone.status_code == 409  # a group keeps an owner
    assert 'role="alert"' in alone.text


def _id_of(http: httpx.Client) -> str:
    token = csrf_of(http.get("/account", headers=HTML).text)
    reply = http.get("/api/v1/auth/me", headers={"X-CSRF-Token": token})
    assert reply.status_code == 200, reply.text
    return str(reply.json()["id"])


def test_the_pages_need_an_account(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as stranger:
        for path in ("/folders", "/shared", "/groups"):
            reply = stranger.get(path, headers=HTML)
            assert reply.status_code == 303
            assert reply.headers["location"] == f"/login?next={path}"
