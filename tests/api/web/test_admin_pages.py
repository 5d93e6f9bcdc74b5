"""The admin pages over real HTTP: accounts and roles, disabling, jobs and their retry;
and that no one else reaches them."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests.api.web.test_browser import Tab, chromium, media_server
from tests.api.web.test_browser import sign_in as browser_sign_in
from tests.conftest import PASSWORD, LiveServer
from tests.webkit import HTML, csrf_of, sign_in

__all__ = ["chromium", "media_server"]

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


@contextmanager
def _admin(server: LiveServer) -> Iterator[tuple[httpx.Client, str]]:
    """A browser-like client signed in as a new admin, and its CSRF token."""
    server.sign_in("admin", "root-admin")
    with httpx.Client(base_url=server.url) as http:
        sign_in(http, "root-admin")
        page = http.get("/admin", headers=HTML)
        assert page.status_code == 200, page.text
        yield http, csrf_of(page.text)


def test_an_admin_sets_roles_and_disables_accounts(live_server: LiveServer) -> None:
    user_id = live_server.user_id  # live-user, a plain user
    with _admin(live_server) as (http, token):
        page = http.get("/admin", headers=HTML)
        assert "live-user" in page.text
        assert 'href="/admin" aria-current="page"' in page.text
        reply = http.post(
            f"/admin/users/{user_id}/role", data={"csrf_token": token, "role": "moderator"}
        )
        assert reply.status_code == 303
        assert reply.headers["location"] == "/admin?done=role"
        me = httpx.get(
            f"{live_server.url}/api/v1/admin/users/{user_id}", headers=live_server.headers
        )
        assert me.json()["role"] == "moderator"
        bad = http.post(f"/admin/users/{user_id}/role", data={"csrf_token": token, "role": "king"})
        assert bad.status_code == 422
        assert "choose a role from the list" in bad.text
        off = http.post(f"/admin/users/{user_id}/disable", data={"csrf_token": token})
        assert off.status_code == 303
        refused = httpx.post(
            f"{live_server.url}/api/v1/auth/login",
            json={"username": "live-user", "password": PASSWORD},
        )
        assert refused.status_code in (401, 403)
        back = http.post(
            f"/admin/users/{user_id}/disable", data={"csrf_token": token, "disabled": "false"}
        )
        assert back.headers["location"] == "/admin?done=enabled"
        welcome = httpx.post(
            f"{live_server.url}/api/v1/auth/login",
            json={"username": "live-user", "password": PASSWORD},
        )
        assert welcome.status_code == 200
        # the last admin keeps their role: the reason, on the page
        admin_id = live_server.user_id
        last = http.post(
            f"/admin/users/{admin_id}/role", data={"csrf_token": token, "role": "user"}
        )
        assert last.status_code == 409
        assert 'role="alert"' in last.text


def test_an_admin_retries_a_job(media_server: LiveServer) -> None:
    upload = httpx.post(
        f"{media_server.url}/api/v1/files",
        params={"filename": "a.png"},
        content=b"\x89PNG\r\n\x1a\nnot really a png",
        headers=media_server.headers,
    )
    assert upload.status_code == 201, upload.text
    job_id = upload.json()[0]["job_id"]
    deadline = time.monotonic() + 30
    while True:
        state = httpx.get(f"{media_server.url}/api/v1/jobs/{job_id}", headers=media_server.headers)
        if state.json()["state"] in ("failed", "succeeded") or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    finished = state.json()["state"]
    assert finished in ("failed", "succeeded")
    with _admin(media_server) as (http, token):
        page = http.get("/admin", params={"state": finished}, headers=HTML)
        assert job_id in page.text
        assert f'action="/admin/jobs/{job_id}/retry"' in page.text
        reply = http.post(f"/admin/jobs/{job_id}/retry", data={"csrf_token": token})
        assert reply.status_code == 303
        assert reply.headers["location"] == "/admin?done=retried"
        again = httpx.get(f"{media_server.url}/api/v1/jobs/{job_id}", headers=media_server.headers)
        assert again.json()["state"] in ("queued", "running", "failed", "succeeded")
        assert again.json()["attempts"] <= 1  # a clean slate


def test_no_one_else_reaches_the_admin_pages(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as stranger:
        reply = stranger.get("/admin", headers=HTML)
        assert reply.status_code == 303
        assert reply.headers["location"] == "/login?next=/admin"
    with httpx.Client(base_url=live_server.url) as user:
        sign_in(user, "live-user")
        page = user.get("/admin", headers=HTML)
        assert page.status_code == 403
        assert "live-user" not in re.sub(r"<header.*?</header>", "", page.text, flags=re.S)
        home = user.get("/", headers=HTML)
        assert 'href="/admin"' not in home.text
        token = csrf_of(home.text)
        changed = user.post(
            f"/admin/users/{live_server.user_id}/role", data={"csrf_token": token, "role": "admin"}
        )
        assert changed.status_code == 403


@pytest.fixture
def admin_server(live_server: LiveServer) -> LiveServer:
    """The live server with an admin account, made before Chromium starts (its event loop
    would keep the account's set-up from running in this thread)."""
    live_server.sign_in("admin", "root-admin")
    return live_server


def test_an_admin_changes_a_role_in_the_browser(admin_server: LiveServer, chromium: Any) -> None:
    live_server = admin_server
    context = chromium.new_context()
    try:
        tab = Tab(context, live_server, "admin")
        page = tab.page
        browser_sign_in(tab, "root-admin")
        page.get_by_role("navigation").get_by_role("link", name="Admin").click()
        tab.at("/admin")
        page.get_by_label("Role of live-user", exact=True).select_option("moderator")
        page.get_by_role("button", name="Set the role of live-user").click()
        page.get_by_role("status").get_by_text("The role was changed").wait_for()
        assert page.get_by_label("Role of live-user", exact=True).input_value() == "moderator"
        tab.shoot("users")
        tab.clean()
    finally:
        context.close()
