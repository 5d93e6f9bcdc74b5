"""The file manager's pages over real HTTP: the grid of the person's own files, a file's
page, and what another account may not see."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import PASSWORD, LiveServer
from tests.webkit import HTML, csrf_of, inline_code, page_token, sign_in

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


@pytest.fixture
def browser(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url) as http:
        sign_in(http, "live-user")
        yield http


def _upload(http: httpx.Client, name: str, data: bytes) -> dict[str, object]:
    reply = http.post(
        "/api/v1/files",
        params={"filename": name},
        content=data,
        headers={"X-CSRF-Token": page_token(http)},
    )
    assert reply.status_code == 201, reply.text
    return dict(reply.json()[0])


def test_the_file_list_shows_ones_own_files(live_server: LiveServer, browser: httpx.Client) -> None:
    mine = _upload(browser, "notes <i onmouseover=x>.txt", b"mine")
    httpx.post(
        f"{live_server.url}/api/v1/files?filename=theirs.txt",
        content=b"x",
        headers=live_server.headers,
    ).raise_for_status()  # the same account through its bearer token: listed too
    page = browser.get("/files", headers=HTML)
    assert page.status_code == 200
    assert f'href="/files/{mine["id"]}"' in page.text
    assert "notes &lt;i onmouseover=x&gt;.txt" in page.text
    assert "theirs.txt" in page.text
    assert inline_code(page.text) == []
    assert 'src="/static/files.js?v=' in page.text


def test_a_files_page_shows_its_cid_and_download(browser: httpx.Client) -> None:
    file = _upload(browser, "hello.txt", b"hello world\n")
    page = browser.get(f"/files/{file['id']}", headers=HTML)
    assert page.status_code == 200
    assert "bafkr4ig4ljhnxasawambeqcsymycobuw7ftxdjr3iusquxax2maa5artku" in page.text
    assert f'href="/api/v1/files/{file["id"]}/content"' in page.text
    assert "b3sum hello.txt" in page.text


def test_another_accounts_file_is_not_found(live_server: LiveServer, browser: httpx.Client) -> None:
    file = _upload(browser, "private.txt", b"private")
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
        assert made.status_code == 303, made.text
        page = other.get(f"/files/{file['id']}", headers=HTML)
        assert page.status_code == 404
        assert "private.txt" not in page.text
        assert "private.txt" not in other.get("/files", headers=HTML).text
        assert other.get("/files/not-an-id", headers=HTML).status_code == 404


def test_the_file_pages_need_an_account(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as stranger:
        reply = stranger.get("/files", headers=HTML)
    assert reply.status_code == 303
    assert reply.headers["location"] == "/login?next=/files"


def test_the_list_view_trash_and_restore(live_server: LiveServer, browser: httpx.Client) -> None:
    kept = _upload(browser, "kept.txt", b"kept")
    binned = _upload(browser, "binned.txt", b"binned")
    page = browser.get("/files", params={"view": "list", "sort": "name"}, headers=HTML)
    assert page.status_code == 200
    assert page.text.index("binned.txt") < page.text.index("kept.txt")
    assert inline_code(page.text) == []
    token = csrf_of(page.text)
    moved = browser.post(
        "/files/selected", data={"csrf_token": token, "action": "trash", "ids": binned["id"]}
    )
    assert moved.status_code == 303
    assert moved.headers["location"] == "/files?view=list&done=trashed"
    mine = httpx.get(f"{live_server.url}/api/v1/files", headers=live_server.headers).json()
    assert [f["id"] for f in mine["items"]] == [kept["id"]]
    trash = browser.get("/files/trash", headers=HTML)
    assert "binned.txt" in trash.text
    assert "kept.txt" not in trash.text
    back = browser.post(
        "/files/selected", data={"csrf_token": token, "action": "restore", "ids": binned["id"]}
    )
    assert back.headers["location"] == "/files/trash?done=restored"
    mine = httpx.get(f"{live_server.url}/api/v1/files", headers=live_server.headers).json()
    assert len(mine["items"]) == 2
    zipped = browser.post(
        "/files/selected",
        data={"csrf_token": token, "action": "zip", "ids": [kept["id"], binned["id"]]},
    )
    assert zipped.status_code == 200
    assert zipped.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as archive:
        assert sorted(archive.namelist()) == ["binned.txt", "kept.txt"]
        assert archive.read("kept.txt") == b"kept"


def test_selected_files_are_checked_one_by_one(
    live_server: LiveServer, browser: httpx.Client
) -> None:
    mine = _upload(browser, "mine.txt", b"mine")
    token = page_token(browser)
    with httpx.Client(base_url=live_server.url) as other:
        form = other.get("/register", headers=HTML)
        other.post(
            "/register",
            data={
                "email": "mallet@example.org",
                "username": "mallet",
                "password": PASSWORD,
                "password_again": PASSWORD,
                "csrf_token": csrf_of(form.text),
            },
        )
        their_token = page_token(other)
        for action in ("trash", "zip"):
            reply = other.post(
                "/files/selected",
                data={"csrf_token": their_token, "action": action, "ids": mine["id"]},
                headers=HTML,
            )
            assert reply.status_code == 404, action
    nothing = browser.post("/files/selected", data={"csrf_token": token, "action": "trash"})
    assert nothing.status_code == 422
    odd = browser.post(
        "/files/selected", data={"csrf_token": token, "action": "burn", "ids": mine["id"]}
    )
    assert odd.status_code == 422
    forged = browser.post("/files/selected", data={"action": "trash", "ids": mine["id"]})
    assert forged.status_code == 403
    listed = httpx.get(f"{live_server.url}/api/v1/files", headers=live_server.headers).json()
    assert [f["id"] for f in listed["items"]] == [mine["id"]]  # still there, not trashed
