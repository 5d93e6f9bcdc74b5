"""Browser sessions over real HTTP: the sign-in form's cookie, its flags, the API taking it,
CSRF on every cookie-authenticated write, and sign-out or revocation ending it at once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from http.cookies import SimpleCookie
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from mcore.settings import Settings
from tests.conftest import PASSWORD, LiveServer, blob_files
from tests.webkit import HTML, csrf_of, page_token, sign_in

SESSION = "mstack_session"


def _set_cookie(reply: httpx.Response, name: str) -> SimpleCookie:
    for header in reply.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        if name in jar:
            return jar
    raise AssertionError(f"no Set-Cookie for {name}: {reply.headers.get_list('set-cookie')}")


@pytest.fixture
def browser(live_server: LiveServer) -> Iterator[httpx.Client]:
    """A client with a cookie jar, signed in through the form as the live server's user."""
    with httpx.Client(base_url=live_server.url) as http:
        sign_in(http, "live-user")
        yield http


def test_the_sign_in_form_sets_an_httponly_lax_cookie(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as http:
        reply = sign_in(http, "live-user")
    assert reply.headers["location"] == "/"
    morsel = _set_cookie(reply, SESSION)[SESSION]
    assert morsel["httponly"] is True
    assert morsel["samesite"].lower() == "lax"
    assert morsel["path"] == "/"
    assert not morsel["secure"]  # plain http on loopback
    assert int(morsel["max-age"]) == int(live_server.settings.session_ttl.total_seconds())
    assert live_server.token not in morsel.value  # not a bearer token: a sealed session id


def test_the_cookie_is_secure_behind_a_trusted_https_proxy(live_server: LiveServer) -> None:
    """127.0.0.1 is a trusted proxy by default (``forwarded_allow_ips``), so its
    X-Forwarded-Proto says the browser's connection is HTTPS."""
    with httpx.Client(base_url=live_server.url, headers={"X-Forwarded-Proto": "https"}) as http:
        form = http.get("/login", headers=HTML)
        nonce = _set_cookie(form, "mstack_csrf")["mstack_csrf"]
        assert nonce["secure"] is True
        http.cookies.clear()
        http.cookies.set("mstack_csrf", nonce.value)  # httpx sends no Secure cookie over http
        reply = http.post(
            "/login",
            data={
                "identifier": "live-user",
                "password": PASSWORD,
                "csrf_token": csrf_of(form.text),
            },
        )
    assert reply.status_code == 303, reply.text
    assert _set_cookie(reply, SESSION)[SESSION]["secure"] is True


@pytest.mark.parametrize("backend", ["sqlite"])
def test_an_untrusted_proxys_https_claim_is_ignored(settings: Settings) -> None:
    server = LiveServer(settings.model_copy(update={"forwarded_allow_ips": ["192.0.2.1"]}))
    server.start()
    try:
        with httpx.Client(base_url=server.url, headers={"X-Forwarded-Proto": "https"}) as http:
            form = http.get("/login", headers=HTML)
            assert not _set_cookie(form, "mstack_csrf")["mstack_csrf"]["secure"]
            reply = sign_in(http, "live-user")
        assert not _set_cookie(reply, SESSION)[SESSION]["secure"]
    finally:
        server.stop()


def test_the_api_accepts_the_cookie(live_server: LiveServer, browser: httpx.Client) -> None:
    me = browser.get("/api/v1/auth/me")
    assert me.status_code == 200, me.text
    assert me.json()["id"] == live_server.user_id
    token = page_token(browser)
    made = browser.post(
        "/api/v1/files?filename=a.txt", content=b"from a browser", headers={"X-CSRF-Token": token}
    )
    assert made.status_code == 201, made.text
    file = made.json()[0]
    assert file["owner_id"] == live_server.user_id
    for _ in range(2):  # the second read comes from the fast path's grant
        blob = browser.get(f"/blobs/{file['cid']}")
        assert blob.status_code == 200
        assert blob.content == b"from a browser"
    renamed = browser.patch(
        f"/api/v1/files/{file['id']}", json={"filename": "b.txt"}, headers={"X-CSRF-Token": token}
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["filename"] == "b.txt"


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": ""}],
    ids=["none", "wrong", "empty"],
)
def test_a_cookie_write_without_its_csrf_token_is_refused(
    live_server: LiveServer, browser: httpx.Client, headers: dict[str, str]
) -> None:
    reply = browser.post("/api/v1/files?filename=a.txt", content=b"forged", headers=headers)
    assert reply.status_code == 403
    assert reply.headers["content-type"].startswith("application/problem+json")
    assert "CSRF" in reply.json()["detail"]
    assert blob_files(live_server.settings) == []
    listed = httpx.get(f"{live_server.url}/api/v1/files", headers=live_server.headers)
    assert listed.json()["items"] == []


def test_another_sessions_csrf_token_is_refused(
    live_server: LiveServer, browser: httpx.Client
) -> None:
    with httpx.Client(base_url=live_server.url) as other:
        sign_in(other, "live-user")
        theirs = page_token(other)
    assert theirs != page_token(browser)
    reply = browser.delete("/api/v1/auth/sessions/x", headers={"X-CSRF-Token": theirs})
    assert reply.status_code == 403


def test_bearer_writes_need_no_csrf_token(live_server: LiveServer, browser: httpx.Client) -> None:
    """A bearer token wins over the cookie, and a cross-site page cannot send one."""
    reply = browser.post(
        "/api/v1/files?filename=a.txt", content=b"script", headers=live_server.headers
    )
    assert reply.status_code == 201, reply.text


def test_sign_out_ends_the_session_everywhere(
    live_server: LiveServer, browser: httpx.Client
) -> None:
    old = browser.cookies[SESSION]
    token = page_token(browser)
    reply = browser.post("/logout", data={"csrf_token": token})
    assert reply.status_code == 303
    assert reply.headers["location"] == "/login"
    assert _set_cookie(reply, SESSION)[SESSION]["max-age"] == "0"
    with httpx.Client(base_url=live_server.url, cookies={SESSION: old}) as replay:
        refused = replay.get("/api/v1/auth/me")
        assert refused.status_code == 401
        assert refused.headers["content-type"].startswith("application/problem+json")
        page = replay.get("/account", headers=HTML)
        assert page.status_code == 303
        assert page.headers["location"] == "/login?next=/account"
        assert replay.get("/", headers=HTML).headers["location"] == "/login"


def test_a_revoked_session_cookie_is_refused(
    live_server: LiveServer, browser: httpx.Client
) -> None:
    sessions = httpx.get(f"{live_server.url}/api/v1/auth/sessions", headers=live_server.headers)
    others = [s for s in sessions.json() if not s["current"]]
    assert len(others) == 1  # the browser's
    revoked = httpx.delete(
        f"{live_server.url}/api/v1/auth/sessions/{others[0]['id']}", headers=live_server.headers
    )
    assert revoked.status_code == 204
    assert browser.get("/api/v1/auth/me").status_code == 401
    assert browser.get("/account", headers=HTML).status_code == 303


def test_a_tampered_cookie_is_refused(live_server: LiveServer, browser: httpx.Client) -> None:
    value = browser.cookies[SESSION]
    session_id, kid, mac = value.split(".")
    for forged in (f"{session_id}.{kid}.{mac[:-2]}AA", f"{session_id}.other.{mac}", session_id):
        with httpx.Client(base_url=live_server.url, cookies={SESSION: forged}) as http:
            assert http.get("/api/v1/auth/me").status_code == 401, forged


def test_page_forms_without_the_csrf_token_are_refused(
    live_server: LiveServer, browser: httpx.Client
) -> None:
    with httpx.Client(base_url=live_server.url) as stranger:
        stranger.get("/login", headers=HTML)  # has the nonce cookie, not the token
        reply = stranger.post("/login", data={"identifier": "live-user", "password": PASSWORD})
        assert reply.status_code == 403
        assert SESSION not in reply.cookies
    reply = browser.post("/account/profile", data={"email": "evil@example.org"})
    assert reply.status_code == 403
    me = browser.get("/api/v1/auth/me").json()
    assert me["email"] == "live-user@example.org"
    # the sign-out form too: a forged one does not sign the person out
    assert browser.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    assert browser.get("/api/v1/auth/me").status_code == 200


async def _socket(server: LiveServer, cookie: str | None, first: dict[str, object]) -> Any:
    headers = {"Cookie": f"{SESSION}={cookie}"} if cookie else {}
    ws = await connect(
        server.url.replace("http://", "ws://") + "/api/v1/events", additional_headers=headers
    )
    await ws.send(json.dumps({"type": "auth", **first}))
    return ws


async def test_a_page_opens_the_event_socket_with_its_cookie_and_token(
    live_server: LiveServer, browser: httpx.Client
) -> None:
    token = page_token(browser)
    ws = await _socket(live_server, browser.cookies[SESSION], {"csrf": token})
    try:
        ready = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert ready["type"] == "ready"
        made = browser.post(
            "/api/v1/files?filename=live.txt", content=b"live", headers={"X-CSRF-Token": token}
        )
        assert made.status_code == 201
        event = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert event["type"] == "file.stored"
        assert event["data"]["filename"] == "live.txt"
    finally:
        await ws.close()


@pytest.mark.parametrize("case", ["wrong token", "no cookie", "another session's token"])
async def test_the_event_socket_refuses_a_cookie_without_its_token(
    live_server: LiveServer, browser: httpx.Client, case: str
) -> None:
    cookie: str | None = browser.cookies[SESSION]
    token = page_token(browser)
    if case == "wrong token":
        token = "forged"
    elif case == "no cookie":
        cookie = None
    else:
        with httpx.Client(base_url=live_server.url) as other:
            sign_in(other, "live-user")
            token = page_token(other)
    ws = await _socket(live_server, cookie, {"csrf": token})
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401
