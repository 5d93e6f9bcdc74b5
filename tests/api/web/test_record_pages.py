"""The generated record pages over real HTTP: plain forms without JavaScript (list rows
added, moved and removed by the server), the API's rules as messages next to fields, the
412 path, what another account may not see or change, and what every page refuses."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import PASSWORD, LiveServer
from tests.webkit import HTML, csrf_of, inline_code, sign_in

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


@pytest.fixture
def browser(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url) as http:
        sign_in(http, "live-user")
        yield http


def _form(http: httpx.Client, path: str) -> dict[str, str]:
    page = http.get(path, headers=HTML)
    assert page.status_code == 200, page.text
    return {"csrf_token": csrf_of(page.text)}


def _make_artist(http: httpx.Client, full: str, **more: str) -> str:
    reply = http.post(
        "/artists/new", data={**_form(http, "/artists/new"), "name.full": full, **more}
    )
    assert reply.status_code == 303, reply.text
    found = re.fullmatch(r"/artists/(bafyr4i[a-z2-7]+)\?done=created", reply.headers["location"])
    assert found, reply.headers["location"]
    return found.group(1)


def _api_artist(live_server: LiveServer, artist_id: str) -> dict[str, object]:
    reply = httpx.get(f"{live_server.url}/api/v1/artists/{artist_id}", headers=live_server.headers)
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def test_every_model_has_its_pages(browser: httpx.Client) -> None:
    for route, heading in (
        ("/artists", "Artists"),
        ("/image-files", "Image files"),
        ("/still-images", "Still images"),
        ("/image-releases", "Image releases"),
    ):
        listing = browser.get(route, headers=HTML)
        assert listing.status_code == 200
        assert f"<h1>{heading}</h1>" in listing.text
        assert inline_code(listing.text) == []
        form = browser.get(f"{route}/new", headers=HTML)
        assert form.status_code == 200
        assert inline_code(form.text) == []
        assert 'src="/static/records.js?v=' in form.text
    release = browser.get("/image-releases/new", headers=HTML).text
    assert 'type="date" id="f-release_date" name="release_date"' in release
    assert 'data-picker="/api/v1/artists"' in release  # links search the target's list
    assert 'data-file-picker="image/*"' in browser.get("/image-files/new", headers=HTML).text


def test_a_plain_form_creates_an_artist(live_server: LiveServer, browser: httpx.Client) -> None:
    artist_id = _make_artist(
        browser,
        "Maren Økland",
        **{"name.short": "", "bio": "Line one\r\nline two", "links.0": "https://example.org/a"},
    )
    read = _api_artist(live_server, artist_id)
    assert read["name"] == {"full": "Maren Økland", "short": None, "abbreviated": None}
    assert read["bio"] == "Line one\nline two"
    assert read["links"] == ["https://example.org/a"]
    page = browser.get(f"/artists/{artist_id}", headers=HTML)
    assert page.status_code == 200
    assert read["cid"] in page.text
    assert f'href="/api/v1/objects/{read["cid"]}"' in page.text
    listing = browser.get("/artists", params={"q": "økl"}, headers=HTML).text
    assert f'href="/artists/{artist_id}"' in listing
    assert (
        f'href="/artists/{artist_id}"'
        not in browser.get("/artists", params={"q": "nobody"}, headers=HTML).text
    )


def test_an_artists_profile_is_picked_and_shown_across_domains(
    live_server: LiveServer, browser: httpx.Client
) -> None:
    """mart's artist links to msocial's profile: the form's picker searches the profiles'
    list route, the detail page links the profile's page by its handle, and the artists'
    list searches by it."""
    form = browser.get("/artists/new", headers=HTML).text
    picker = re.search(r'<input[^>]*name="profile"[^>]*>', form)
    assert picker, form
    assert 'data-picker="/api/v1/profiles"' in picker.group(0)
    assert 'data-picker-search="handle"' in picker.group(0)
    assert 'data-picker-route="/profiles"' in picker.group(0)
    made = browser.post(
        "/profiles/new",
        data={**_form(browser, "/profiles/new"), "handle": "okland", "display_name": "Økland"},
    )
    assert made.status_code == 303, made.text
    profile_id = made.headers["location"].split("/")[2].split("?")[0]
    artist_id = _make_artist(browser, "Maren Økland", profile=profile_id)
    assert _api_artist(live_server, artist_id)["profile"] == profile_id
    page = browser.get(f"/artists/{artist_id}", headers=HTML).text
    assert re.search(rf'<a class="linked" href="/profiles/{profile_id}">.*?okland', page, re.S)
    listing = browser.get("/artists", params={"by": "profile", "q": profile_id}, headers=HTML)
    assert f'href="/artists/{artist_id}"' in listing.text
    refused = browser.post(
        "/artists/new",
        data={**_form(browser, "/artists/new"), "name.full": "X", "profile": artist_id},
    )
    assert refused.status_code == 422
    assert f"{artist_id} is not a profile" in refused.text


def test_list_rows_move_without_javascript(browser: httpx.Client) -> None:
    base = {
        **_form(browser, "/artists/new"),
        "name.full": "Rows",
        "links.0": "https://example.org/1",
        "links.1": "https://example.org/2",
        "links.2": "",  # the empty row a form shows after the last
    }
    added = browser.post("/artists/new", data={**base, "_row": "add:links"})
    assert added.status_code == 200  # shown again, nothing saved
    assert 'name="links.2"' in added.text
    assert 'name="links.3"' in added.text
    moved = browser.post("/artists/new", data={**base, "_row": "up:links:1"})
    assert moved.text.index("https://example.org/2") < moved.text.index("https://example.org/1")
    removed = browser.post("/artists/new", data={**base, "_row": "remove:links:0"})
    assert "https://example.org/1" not in removed.text
    assert 'value="https://example.org/2"' in removed.text
    assert "Rows" not in browser.get("/artists", headers=HTML).text


def test_the_apis_rules_show_next_to_the_field(
    live_server: LiveServer, browser: httpx.Client
) -> None:
    reply = browser.post(
        "/still-images/new",
        data={
            **_form(browser, "/still-images/new"),
            "title.full": "x" * 501,
            "year": "twenty",
            "tags.0": "ok",
        },
    )
    assert reply.status_code == 422
    assert re.search(
        r'id="f-title-full-err">String should have at most 500 characters<', reply.text
    )
    assert re.search(r'id="f-year-err">expected an integer', reply.text)
    assert 'value="twenty"' in reply.text  # what was typed stays
    listed = httpx.get(f"{live_server.url}/api/v1/still-images", headers=live_server.headers)
    assert listed.json()["items"] == []  # nothing was made
    missing = browser.post("/artists/new", data=_form(browser, "/artists/new"))
    assert missing.status_code == 422
    assert 'id="f-name-err">Field required<' in missing.text


def test_an_edit_of_an_old_head_is_412_with_their_values(
    live_server: LiveServer, browser: httpx.Client
) -> None:
    artist_id = _make_artist(browser, "First")
    first = _api_artist(live_server, artist_id)
    page = browser.get(f"/artists/{artist_id}/edit", headers=HTML)
    assert f'name="head" value="{first["cid"]}"' in page.text
    token = csrf_of(page.text)
    saved = browser.post(
        f"/artists/{artist_id}/edit",
        data={"csrf_token": token, "head": first["cid"], "name.full": "Second"},
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/artists/{artist_id}?done=saved"
    stale = browser.post(
        f"/artists/{artist_id}/edit",
        data={"csrf_token": token, "head": first["cid"], "name.full": "Third"},
    )
    assert stale.status_code == 412
    assert "changed since you opened it" in stale.text
    assert 'value="Third"' in stale.text
    second = _api_artist(live_server, artist_id)
    assert second["name"]["full"] == "Second"
    assert second["n"] == 2
    assert f'name="head" value="{second["cid"]}"' in stale.text  # saving again applies it
    again = browser.post(
        f"/artists/{artist_id}/edit",
        data={"csrf_token": token, "head": second["cid"], "name.full": "Third"},
    )
    assert again.status_code == 303
    assert _api_artist(live_server, artist_id)["n"] == 3


def test_history_revert_and_delete(live_server: LiveServer, browser: httpx.Client) -> None:
    artist_id = _make_artist(browser, "Old name")
    token = _form(browser, "/artists/new")["csrf_token"]
    first = _api_artist(live_server, artist_id)
    edited = browser.post(
        f"/artists/{artist_id}/edit",
        data={"csrf_token": token, "head": first["cid"], "name.full": "New name"},
    )
    assert edited.status_code == 303
    history = browser.get(f"/artists/{artist_id}/history", headers=HTML)
    assert history.text.index("Version 2") < history.text.index("Version 1")
    assert re.search(
        r"<th scope=\"row\">name.full</th><td class=\"before\">Old name</td>"
        r"<td class=\"after\">New name</td>",
        history.text,
    )
    versions = httpx.get(
        f"{live_server.url}/api/v1/artists/{artist_id}/versions", headers=live_server.headers
    ).json()["items"]
    as_of = browser.get(f"/artists/{artist_id}", params={"at": versions[1]["at"]}, headers=HTML)
    assert as_of.status_code == 200
    assert "As it was at" in as_of.text
    assert "<h1>Old name</h1>" in as_of.text
    assert (
        browser.get(f"/artists/{artist_id}", params={"at": "soon"}, headers=HTML).status_code == 422
    )
    version = browser.get(f"/artists/{artist_id}/versions/{first['cid']}", headers=HTML)
    assert version.status_code == 200
    assert "Old name" in version.text
    reverted = browser.post(
        f"/artists/{artist_id}/revert", data={"csrf_token": token, "to": first["cid"]}
    )
    assert reverted.status_code == 303
    read = _api_artist(live_server, artist_id)
    assert read["name"]["full"] == "Old name"
    assert read["n"] == 3
    confirm = browser.get(f"/artists/{artist_id}/delete", headers=HTML)
    assert "Delete Old name?" in confirm.text
    deleted = browser.post(
        f"/artists/{artist_id}/delete", data={"csrf_token": token, "head": read["cid"]}
    )
    assert deleted.status_code == 303
    assert browser.get(f"/artists/{artist_id}", headers=HTML).status_code == 410
    gone = httpx.get(f"{live_server.url}/api/v1/artists/{artist_id}", headers=live_server.headers)
    assert gone.status_code == 410
    assert "is deleted" in browser.get(f"/artists/{artist_id}/history", headers=HTML).text


def test_visibility_from_the_detail_page(live_server: LiveServer, browser: httpx.Client) -> None:
    artist_id = _make_artist(browser, "Shy")
    token = _form(browser, "/artists/new")["csrf_token"]
    reply = browser.post(
        f"/artists/{artist_id}/visibility", data={"csrf_token": token, "visibility": "public"}
    )
    assert reply.status_code == 303
    read = _api_artist(live_server, artist_id)
    assert read["visibility"] == "public"
    assert read["n"] == 1
    refused = browser.post(
        f"/artists/{artist_id}/hidden", data={"csrf_token": token, "hidden": "true"}
    )
    assert refused.status_code == 403  # hiding is a moderator's
    assert _api_artist(live_server, artist_id)["hidden"] is False


def test_another_account_neither_sees_nor_changes(
    live_server: LiveServer, browser: httpx.Client
) -> None:
    artist_id = _make_artist(browser, "Private person")
    with httpx.Client(base_url=live_server.url) as other:
        form = other.get("/register", headers=HTML)
        made = other.post(
            "/register",
            data={
                "email": "eve@example.org",
                "username": "eve",
                "password": PASSWORD,
                "password_again": PASSWORD,
                "csrf_token": csrf_of(form.text),
            },
        )
        assert made.status_code == 303
        token = csrf_of(other.get("/artists", headers=HTML).text)
        for path in ("", "/edit", "/history", "/delete"):
            page = other.get(f"/artists/{artist_id}{path}", headers=HTML)
            assert page.status_code == 404, path
            assert "Private person" not in page.text
        for path, data in (
            ("/edit", {"name.full": "Taken"}),
            ("/delete", {}),
            ("/visibility", {"visibility": "public"}),
        ):
            reply = other.post(f"/artists/{artist_id}{path}", data={"csrf_token": token, **data})
            assert reply.status_code == 404, path
        assert "Private person" not in other.get("/artists", headers=HTML).text
        assert other.get("/artists/not-a-cid", headers=HTML).status_code == 404
    read = _api_artist(live_server, artist_id)
    assert read["name"]["full"] == "Private person"
    assert read["visibility"] == "private"


def test_forms_without_the_csrf_token_are_refused(
    live_server: LiveServer, browser: httpx.Client
) -> None:
    reply = browser.post("/artists/new", data={"name.full": "Forged"})
    assert reply.status_code == 403
    listed = httpx.get(f"{live_server.url}/api/v1/artists", headers=live_server.headers)
    assert listed.json()["items"] == []


def test_the_pages_need_an_account(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as stranger:
        reply = stranger.get("/still-images/new", headers=HTML)
    assert reply.status_code == 303
    assert reply.headers["location"] == "/login?next=/still-images/new"


def test_a_moderator_hides_and_shows_a_public_record(
    live_server: LiveServer, browser: httpx.Client
) -> None:
    artist_id = _make_artist(browser, "Loud", visibility="public")
    owner_headers = dict(live_server.headers)
    live_server.sign_in("moderator", "mod")
    with httpx.Client(base_url=live_server.url) as moderator:
        sign_in(moderator, "mod")
        page = moderator.get(f"/artists/{artist_id}", headers=HTML)
        assert page.status_code == 200
        assert "Hide it (moderation)" in page.text
        assert f'href="/artists/{artist_id}/edit"' not in page.text  # not theirs to edit
        token = csrf_of(page.text)
        hidden = moderator.post(
            f"/artists/{artist_id}/hidden", data={"csrf_token": token, "hidden": "true"}
        )
        assert hidden.status_code == 303
        read = httpx.get(f"{live_server.url}/api/v1/artists/{artist_id}", headers=owner_headers)
        assert read.json()["hidden"] is True
        assert "Show it again" in moderator.get(f"/artists/{artist_id}", headers=HTML).text
        moderator.post(
            f"/artists/{artist_id}/hidden", data={"csrf_token": token, "hidden": "false"}
        )
        read = httpx.get(f"{live_server.url}/api/v1/artists/{artist_id}", headers=owner_headers)
        assert read.json()["hidden"] is False
        taken = moderator.post(
            f"/artists/{artist_id}/edit", data={"csrf_token": token, "name.full": "Mine now"}
        )
        assert taken.status_code == 403
    assert _api_artist_as(live_server.url, owner_headers, artist_id)["name"]["full"] == "Loud"


def _api_artist_as(url: str, headers: dict[str, str], artist_id: str) -> dict[str, object]:
    reply = httpx.get(f"{url}/api/v1/artists/{artist_id}", headers=headers)
    assert reply.status_code == 200, reply.text
    return dict(reply.json())
