"""The pages over real HTTP: forms that work without JavaScript, escaped user text, the
Content-Security-Policy, error pages, and static files from their folder only."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import httpx
import pytest

from api.web.render import CONTENT_SECURITY_POLICY
from tests.conftest import PASSWORD, LiveServer
from tests.webkit import HTML, csrf_of, inline_code, page_token, sign_in

# The pages call the same ops on either database; the ops' own tests run on both.
pytestmark = pytest.mark.parametrize("backend", ["sqlite"])
XSS_NAME = '<script>document.title="pwned"</script>'
XSS_FILE = '<img src=x onerror="document.title=1">.txt'


def register(http: httpx.Client, username: str, **fields: str) -> httpx.Response:
    form = http.get("/register", headers=HTML)
    assert form.status_code == 200
    data = {
        "email": f"{username}@example.org",
        "username": username,
        "display_name": "",
        "password": PASSWORD,
        "password_again": PASSWORD,
        "csrf_token": csrf_of(form.text),
        **fields,
    }
    return http.post("/register", data=data)


@pytest.fixture
def browser(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url) as http:
        sign_in(http, "live-user")
        yield http


def test_register_signs_in_and_the_index_counts_what_is_yours(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as http:
        made = register(http, "newcomer", display_name="New Comer")
        assert made.status_code == 303, made.text
        assert made.headers["location"] == "/"
        home = http.get("/", headers=HTML)
        assert home.status_code == 200
        assert "Hello, New Comer" in home.text
        assert '<span class="count">0</span> <span class="label">files</span>' in home.text
        token = page_token(http)
        for name in ("one.txt", "two.txt"):
            reply = http.post(
                f"/api/v1/files?filename={name}",
                content=name.encode(),
                headers={"X-CSRF-Token": token},
            )
            assert reply.status_code == 201
        artist = http.post(
            "/api/v1/artists", json={"name": {"full": "Ada"}}, headers={"X-CSRF-Token": token}
        )
        assert artist.status_code == 201, artist.text
        # another account's things are not counted
        httpx.post(
            f"{live_server.url}/api/v1/files?filename=theirs.txt",
            content=b"theirs",
            headers=live_server.headers,
        ).raise_for_status()
        home = http.get("/", headers=HTML)
    assert '<span class="count">2</span> <span class="label">files</span>' in home.text
    assert '<span class="count">1</span> <span class="label">Artists</span>' in home.text
    assert "one.txt" in home.text
    assert "two.txt" in home.text
    assert "theirs.txt" not in home.text


def test_registration_mistakes_are_shown_on_the_form(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as http:
        mismatch = register(http, "someone", password_again="another long password")
        assert mismatch.status_code == 422
        assert "the two passwords are not the same" in mismatch.text
        assert 'value="someone"' in mismatch.text  # what was typed stays
        taken = register(http, "live-user", email="other@example.org")
        assert taken.status_code == 409
        assert "this username is taken" in taken.text
        assert "mstack_session" not in http.cookies


def test_a_wrong_password_is_refused_on_the_form(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as http:
        form = http.get("/login", headers=HTML)
        reply = http.post(
            "/login",
            data={"identifier": "live-user", "password": "wrong", "csrf_token": csrf_of(form.text)},
        )
    assert reply.status_code == 401
    assert "the email, username or password is wrong" in reply.text
    assert "mstack_session" not in reply.cookies


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_sign_in_never_sends_the_browser_to_another_site(
    live_server: LiveServer, target: str
) -> None:
    with httpx.Client(base_url=live_server.url) as http:
        form = http.get("/login", params={"next": target}, headers=HTML)
        reply = http.post(
            "/login",
            data={
                "identifier": "live-user",
                "password": PASSWORD,
                "next": target,
                "csrf_token": csrf_of(form.text),
            },
        )
    assert reply.headers["location"] == "/"


def test_sign_in_goes_back_to_the_page_asked_for(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as http:
        first = http.get("/account", headers=HTML)
        assert first.headers["location"] == "/login?next=/account"
        form = http.get(first.headers["location"], headers=HTML)
        reply = http.post(
            "/login",
            data={
                "identifier": "live-user@example.org",  # by email this time
                "password": PASSWORD,
                "next": "/account",
                "csrf_token": csrf_of(form.text),
            },
        )
    assert reply.headers["location"] == "/account"


def test_pages_have_a_strict_policy_and_no_inline_code(
    live_server: LiveServer, browser: httpx.Client
) -> None:
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert "default-src 'self'" in CONTENT_SECURITY_POLICY
    with httpx.Client(base_url=live_server.url) as stranger:
        pages = [stranger.get("/login", headers=HTML), stranger.get("/register", headers=HTML)]
    pages += [browser.get(path, headers=HTML) for path in ("/", "/account", "/no/such/page")]
    for reply in pages:
        assert reply.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert reply.headers["x-frame-options"] == "DENY"
        assert reply.headers["cache-control"] == "no-store"
        assert reply.headers["content-type"] == "text/html; charset=utf-8"
        assert inline_code(reply.text) == [], reply.url
        assert '<main id="main"' in reply.text
        assert "<header" in reply.text
        assert '<nav aria-label="Main">' in reply.text


def test_user_text_is_escaped(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as http:
        assert register(http, "mallory", display_name=XSS_NAME).status_code == 303
        token = page_token(http)
        reply = http.post(
            "/api/v1/files",
            params={"filename": XSS_FILE},
            content=b"x",
            headers={"X-CSRF-Token": token},
        )
        assert reply.status_code == 201
        pages = [http.get("/", headers=HTML), http.get("/account", headers=HTML)]
    for page in pages:
        assert "<script>document" not in page.text
        assert "<img src=x" not in page.text
        assert inline_code(page.text) == []
    assert "&lt;script&gt;document.title=&#34;pwned&#34;&lt;/script&gt;" in pages[0].text
    assert "&lt;img src=x onerror=&#34;document.title=1&#34;&gt;.txt" in pages[0].text


def test_error_pages_for_pages_and_problems_for_the_api(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as http:
        page = http.get("/no/such/page", headers=HTML)
        assert page.status_code == 404
        assert "Not found" in page.text
        assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        for path, headers in (("/no/such/page", {}), ("/api/v1/nothing", HTML)):
            problem = http.get(path, headers=headers)
            assert problem.status_code == 404
            assert problem.headers["content-type"].startswith("application/problem+json")
        wrong = http.put("/login", headers=HTML)
        assert wrong.status_code == 405
        assert "Not allowed" in wrong.text


def test_a_server_error_page_reveals_nothing(
    live_server: LiveServer, browser: httpx.Client
) -> None:
    """A real failure (a table gone from under the server) answers the friendly 500 page."""
    with sqlite3.connect(live_server.settings.data_dir / "mstack.db") as db:
        db.execute("ALTER TABLE api_keys RENAME TO api_keys_gone")
    page = browser.get("/account", headers=HTML)
    assert page.status_code == 500
    assert "Something went wrong" in page.text
    for leak in ("Traceback", "api_keys", "sqlalchemy", "OperationalError", ".py"):
        assert leak not in page.text
    assert inline_code(page.text) == []


def test_the_account_page_changes_profile_and_password(
    live_server: LiveServer, browser: httpx.Client
) -> None:
    token = page_token(browser)
    saved = browser.post(
        "/account/profile",
        data={
            "email": "renamed@example.org",
            "username": "live-user",
            "display_name": "Live",
            "phone": "",
            "csrf_token": token,
        },
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == "/account?done=profile"
    account = browser.get("/account?done=profile", headers=HTML)
    assert "Your profile was saved." in account.text
    assert 'value="renamed@example.org"' in account.text
    new = "a brand new long password"
    mismatch = browser.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": new,
            "new_password_again": "x",
            "csrf_token": token,
        },
    )
    assert mismatch.status_code == 422
    changed = browser.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": new,
            "new_password_again": new,
            "csrf_token": token,
        },
    )
    assert changed.status_code == 303
    # the other session (the live server's bearer token) ended; this browser's did not
    assert (
        httpx.get(f"{live_server.url}/api/v1/auth/me", headers=live_server.headers).status_code
        == 401
    )
    assert browser.get("/api/v1/auth/me").status_code == 200


def test_the_account_page_makes_and_revokes_api_keys(
    live_server: LiveServer, browser: httpx.Client
) -> None:
    token = page_token(browser)
    made = browser.post(
        "/account/keys",
        data={
            "name": "backup <script>",
            "scopes": ["files:read", "files:write"],
            "csrf_token": token,
        },
    )
    assert made.status_code == 201
    key = made.text.split('<code id="new-key">')[1].split("</code>")[0]
    assert key.startswith("msk_")
    assert "backup &lt;script&gt;" in made.text
    with httpx.Client(
        base_url=live_server.url, headers={"Authorization": f"Bearer {key}"}
    ) as script:
        assert script.get("/api/v1/files").status_code == 200
        assert script.post("/api/v1/artists", json={"name": {"full": "A"}}).status_code == 403
        keys = browser.get("/api/v1/auth/keys").json()
        revoked = browser.post(f"/account/keys/{keys[0]['id']}/revoke", data={"csrf_token": token})
        assert revoked.status_code == 303
        assert script.get("/api/v1/files").status_code == 401
    assert "never shown" not in browser.get("/account", headers=HTML).text
    assert key not in browser.get("/account", headers=HTML).text
    refused = browser.post(
        "/account/keys", data={"name": "admin key", "scopes": ["admin"], "csrf_token": token}
    )
    assert refused.status_code == 403
    assert "only an admin" in refused.text


def test_the_account_page_ends_sessions(live_server: LiveServer, browser: httpx.Client) -> None:
    token = page_token(browser)
    sessions = browser.get("/api/v1/auth/sessions").json()
    other = next(s for s in sessions if not s["current"])
    ended = browser.post(f"/account/sessions/{other['id']}/revoke", data={"csrf_token": token})
    assert ended.status_code == 303
    assert (
        httpx.get(f"{live_server.url}/api/v1/auth/me", headers=live_server.headers).status_code
        == 401
    )
    missing = browser.post(
        "/account/sessions/nope/revoke", data={"csrf_token": token}, headers=HTML
    )
    assert missing.status_code == 404
    mine = next(s for s in sessions if s["current"])
    own = browser.post(f"/account/sessions/{mine['id']}/revoke", data={"csrf_token": token})
    assert own.headers["location"] == "/login"
    assert browser.get("/api/v1/auth/me").status_code == 401


def test_static_files_come_from_their_folder_only(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as http:
        css = http.get("/static/app.css")
        assert css.status_code == 200
        assert css.headers["content-type"].startswith("text/css")
        assert "--accent" in css.text
        assert http.get("/static/app.js").headers["content-type"].startswith("text/javascript")
        for path in ("/static/../render.py", "/static/%2e%2e/render.py", "/static/..%2frender.py"):
            assert http.get(path).status_code == 404, path


def test_every_page_form_refuses_a_missing_csrf_token(
    live_server: LiveServer, browser: httpx.Client
) -> None:
    """Each state-changing page route, found from the app itself, answers 403 to a signed-in
    browser's form without the token, and changes nothing."""
    from litestar.routes import HTTPRoute

    from api.app import create_app

    app = create_app(live_server.settings).app
    posts = sorted(
        route.path_format.replace("{session_id}", "x").replace("{key_id}", "x")
        for route in app.routes
        if isinstance(route, HTTPRoute)
        and "POST" in route.methods
        and not route.path.startswith("/api/")
    )
    assert len(posts) >= 8, posts
    before = browser.get("/api/v1/auth/me").json()
    for path in posts:
        reply = browser.post(path, data={"name": "x", "email": "x@example.org"}, headers=HTML)
        assert reply.status_code == 403, path
        assert "CSRF" in reply.text, path
    assert browser.get("/api/v1/auth/me").json() == before  # still signed in, unchanged


def test_an_oversized_form_is_refused_with_a_page(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as http:
        form = http.get("/login", headers=HTML)
        reply = http.post(
            "/login",
            data={"identifier": "x" * 300_000, "password": "x", "csrf_token": csrf_of(form.text)},
            headers=HTML,
        )
    assert reply.status_code == 413
    assert "Too large" in reply.text
    assert reply.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
