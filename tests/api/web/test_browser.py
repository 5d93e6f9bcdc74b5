"""Journeys in a real browser: Playwright for Python driving Debian's Chromium
(``/usr/bin/chromium``; Playwright's own browser download is not used) against a live
server on loopback with a real SQLite database.

Each journey saves screenshots at desktop and phone width under ``test-artifacts/``.
Without Chromium these tests skip, saying so; with ``MSTACK_REQUIRE_TOOLS=1`` (CI) that
is a failure instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mcore.settings import Settings
from tests import media
from tests.apphelpers import fast
from tests.conftest import PASSWORD, LiveServer, need_tool

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}
XSS_NAME = '<img src=x onerror="window.pwned=1">'
XSS_FILE = '<svg onload="window.pwned=2">.txt'

PHONE_AGENT = "Mozilla/5.0 (Android 14; Mobile; rv:130.0) Gecko/130.0 Firefox/130.0"

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


@pytest.fixture
def chromium(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Chromium, started after the test's live server (``media_server`` when it asks for
    one, else ``live_server``): Playwright's sync API keeps an event loop running in this
    thread, and a server's set-up needs the thread free of one."""
    wanted = "media_server" if "media_server" in request.fixturenames else "live_server"
    request.getfixturevalue(wanted)
    chromium_path = need_tool("chromium")  # Debian's package: apt-get install chromium
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True)
        yield browser
        browser.close()


class Tab:
    """One browser page on the live server that fails the test on any script error or
    console error (a Content-Security-Policy violation is one), and takes screenshots."""

    def __init__(self, context: Any, server: LiveServer, journey: str) -> None:
        self.page = context.new_page()
        self.page.set_viewport_size(DESKTOP)
        self.url = server.url
        self.journey = journey
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        self.page.on(
            "console",
            lambda msg: self.errors.append(f"console: {msg.text}") if msg.type == "error" else None,
        )
        self.page.on("dialog", lambda dialog: self.errors.append(f"dialog: {dialog.message}"))

    def go(self, path: str) -> Any:
        return self.page.goto(self.url + path)

    def at(self, path: str) -> None:
        """Wait until the browser is on ``path`` (query ignored)."""
        self.page.wait_for_url(re.compile(re.escape(self.url + path) + r"(\?.*)?$"))

    def shoot(self, name: str) -> None:
        """Screenshots of the page as it is, at desktop and phone width."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
            self.page.set_viewport_size(size)
            self.page.screenshot(
                path=ARTIFACTS / f"{self.journey}-{name}-{label}.png", full_page=True
            )
            width = self.page.evaluate("document.documentElement.scrollWidth")
            assert width <= size["width"], f"{name} scrolls sideways at {label} width ({width}px)"
        self.page.set_viewport_size(DESKTOP)

    def clean(self) -> None:
        assert self.errors == []


@pytest.fixture
def context(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context()
    yield context
    context.close()


def register(tab: Tab, username: str, display_name: str = "") -> None:
    page = tab.page
    tab.go("/register")
    page.get_by_label("Email").fill(f"{username}@example.org")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Display name").fill(display_name)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    tab.at("/")


def sign_in(tab: Tab, username: str) -> None:
    page = tab.page
    tab.go("/login")
    page.get_by_label("Email or username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    tab.at("/")


def sign_out(tab: Tab) -> None:
    tab.page.get_by_role("banner").get_by_role("button", name="Sign out").click()
    tab.at("/login")


def test_create_an_account_and_sign_in(live_server: LiveServer, context: Any) -> None:
    tab = Tab(context, live_server, "account")
    page = tab.page
    tab.go("/")
    tab.at("/login")  # a stranger is asked to sign in
    tab.shoot("login")
    page.get_by_role("link", name="Create an account").click()
    tab.at("/register")
    tab.shoot("register")
    register(tab, "ada", "Ada Lovelace")
    assert page.get_by_role("heading", level=1).inner_text() == "Hello, Ada Lovelace"
    assert page.title() == "Home · mstack"
    tab.shoot("home")
    sign_out(tab)
    page.get_by_label("Email or username").fill("ada")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "the email, username or password is wrong"
    tab.shoot("wrong-password")
    tab.errors.clear()  # the 401 of the refused sign-in is logged to the console
    sign_in(tab, "ada@example.org")
    tab.go("/account")
    assert page.get_by_label("Username").input_value() == "ada"
    tab.shoot("account")
    tab.clean()


def test_signed_out_pages_are_no_longer_reachable(live_server: LiveServer, context: Any) -> None:
    tab = Tab(context, live_server, "signout")
    page = tab.page
    sign_in(tab, "live-user")
    tab.go("/account")
    sign_out(tab)
    tab.shoot("signed-out")
    for path in ("/", "/account"):
        tab.go(path)
        tab.at("/login")
    page.go_back()  # the page before is not kept (no-store): it asks again, and is refused
    tab.at("/login")
    cookies = {c["name"] for c in context.cookies()}
    assert "mstack_session" not in cookies
    # the session's cookie no longer works on the API either
    assert page.request.get(live_server.url + "/api/v1/auth/me").status == 401
    tab.clean()


def test_an_xss_attempt_is_rendered_inert(live_server: LiveServer, context: Any) -> None:
    tab = Tab(context, live_server, "xss")
    page = tab.page
    register(tab, "mallory", XSS_NAME)
    # the page's own script path: fetch with the session cookie and the page's CSRF token
    status = page.evaluate(
        """async (name) => {
            const { api } = await import('/static/app.js');
            const reply = await api('/api/v1/files?filename=' + encodeURIComponent(name),
                                    { method: 'POST', body: 'x' });
            return reply.status;
        }""",
        XSS_FILE,
    )
    assert status == 201
    page.reload()
    assert page.get_by_role("heading", level=1).inner_text() == f"Hello, {XSS_NAME}"
    assert page.get_by_text(XSS_FILE).count() == 1
    assert page.evaluate("window.pwned") is None
    assert page.locator("img[src='x']").count() == 0
    tab.shoot("home")
    tab.clean()


def test_the_account_page_ends_another_session(
    live_server: LiveServer, chromium: Any, context: Any
) -> None:
    laptop = Tab(context, live_server, "sessions")
    sign_in(laptop, "live-user")
    other_context = chromium.new_context(user_agent=PHONE_AGENT)
    try:
        phone = Tab(other_context, live_server, "sessions-phone")
        sign_in(phone, "live-user")
        laptop.go("/account")
        rows = laptop.page.locator(".row", has_text="Firefox on Android")
        assert rows.count() == 1
        laptop.shoot("before")
        rows.get_by_role("button", name=re.compile("^End session")).click()
        laptop.at("/account")
        assert laptop.page.get_by_role("status").inner_text() == "The session was ended."
        assert laptop.page.locator(".row", has_text="Firefox on Android").count() == 0
        laptop.shoot("after")
        phone.go("/account")
        phone.at("/login")
        laptop.go("/account")
        laptop.at("/account")  # this browser is still signed in
        laptop.clean()
        phone.clean()
    finally:
        other_context.close()


@pytest.fixture
def media_server(settings: Settings) -> Iterator[LiveServer]:
    """A live server that processes uploads (its job worker runs) and takes only images and
    PDFs."""
    tuned = fast(settings)
    tuned = tuned.model_copy(
        update={
            "jobs": tuned.jobs.model_copy(update={"embedded_worker": True}),
            "allowed_content_types": ["image/*", "application/pdf"],
        }
    )
    server = LiveServer(tuned)
    server.start()
    yield server
    server.stop()


def test_upload_files_and_watch_them_become_ready(media_server: LiveServer, chromium: Any) -> None:
    context = chromium.new_context()
    try:
        tab = Tab(context, media_server, "files")
        page = tab.page
        sign_in(tab, "live-user")
        page.get_by_role("navigation").get_by_role("link", name="Files", exact=True).click()
        tab.at("/files")
        tab.shoot("empty")
        page.get_by_label("Choose files").set_input_files(
            [
                {"name": "blue.png", "mimeType": "image/png", "buffer": media.png(640, 400)},
                {"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": media.jpeg()},
                {"name": "paper.pdf", "mimeType": "application/pdf", "buffer": media.pdf()},
                {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"just text\n"},
            ]
        )
        # and one more dropped onto the page, as a file manager's window would drop it
        page.evaluate(
            """(bytes) => {
                const files = new DataTransfer();
                const png = new File([new Uint8Array(bytes)], 'dropped.png', {type: 'image/png'});
                files.items.add(png);
                const zone = document.querySelector('[data-upload]');
                for (const type of ['dragover', 'drop']) {
                    const init = {dataTransfer: files, bubbles: true, cancelable: true};
                    zone.dispatchEvent(new DragEvent(type, init));
                }
            }""",
            list(media.png(300, 300)),
        )
        uploads = page.locator("#uploads li")
        expect = page.locator("#uploads [data-status]", has_text=re.compile("^ready$"))
        expect.nth(3).wait_for(timeout=60_000)
        assert expect.count() == 4
        refused = uploads.filter(has_text="notes.txt")
        assert "contains text/plain, which this server does not accept" in refused.inner_text()
        for name in ("blue.png", "photo.jpg", "paper.pdf", "dropped.png"):
            done = uploads.filter(has_text=name)
            done.locator("img").wait_for()
            assert done.locator("progress").evaluate("bar => bar.value") == 100
        tab.shoot("uploaded")
        tab.errors = [e for e in tab.errors if "415" not in e]  # the refused upload's status
        page.reload()
        grid = page.locator("#file-grid img")
        assert grid.count() == 4
        page.wait_for_function(
            "() => [...document.querySelectorAll('#file-grid img')]"
            ".every(img => img.complete && img.naturalWidth > 0)"
        )
        tab.shoot("grid")
        page.locator("#file-grid a", has_text="blue.png").click()
        page.get_by_role("heading", level=1, name="blue.png").wait_for()
        assert page.locator(".large img").evaluate("img => img.naturalWidth") > 256
        assert page.locator("#file-cid").inner_text().startswith("bafkr4i")
        tab.shoot("detail")
        tab.clean()
    finally:
        context.close()


def test_the_dark_theme_follows_the_system(live_server: LiveServer, chromium: Any) -> None:
    for scheme, dark in (("light", False), ("dark", True)):
        context = chromium.new_context(color_scheme=scheme)
        try:
            tab = Tab(context, live_server, f"theme-{scheme}")
            sign_in(tab, "live-user")
            tab.go("/account")
            background = tab.page.evaluate("getComputedStyle(document.body).backgroundColor")
            red, green, blue = (int(x) for x in re.findall(r"\d+", background)[:3])
            assert (red + green + blue < 150) is dark, background
            tab.shoot("account")
            tab.clean()
        finally:
            context.close()


def test_keyboard_only_upload_retried_after_the_network_drops(
    media_server: LiveServer, chromium: Any
) -> None:
    context = chromium.new_context()
    try:
        tab = Tab(context, media_server, "keyboard")
        page = tab.page
        sign_in(tab, "live-user")
        tab.go("/files")
        for _ in range(20):  # from the top of the page, Tab reaches the file picker
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == "upload-input":
                break
        else:
            pytest.fail("Tab never reached the file picker")
        tab.shoot("focused")
        context.set_offline(True)
        with page.expect_file_chooser() as chooser:
            page.keyboard.press("Space")
        chooser.value.set_files(
            [{"name": "offline.png", "mimeType": "image/png", "buffer": media.png(200, 200)}]
        )
        row = page.locator("#uploads li", has_text="offline.png")
        row.get_by_text("the network connection was lost").wait_for()
        assert row.get_by_role("button", name="Retry offline.png").is_visible()
        tab.shoot("offline")
        context.set_offline(False)
        row.get_by_role("button", name="Retry offline.png").focus()
        page.keyboard.press("Enter")
        done = page.locator("#uploads li", has_text="offline.png")
        done.locator("[data-status]", has_text=re.compile("^ready$")).wait_for(timeout=60_000)
        assert done.count() == 1  # the failed row made way for the new try
        done.locator("img").wait_for()
        tab.shoot("retried")
        # going offline breaks requests and the event socket, which the page reconnects
        tab.errors = [e for e in tab.errors if "ERR_INTERNET_DISCONNECTED" not in e]
        tab.clean()
    finally:
        context.close()
