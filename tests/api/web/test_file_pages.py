"""The file manager's pages over real HTTP: the grid of the person's own files, a file's
page, and what another account may not see."""

from __future__ import annotations

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
