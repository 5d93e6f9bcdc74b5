"""Helpers for tests of the web pages: signing a browser-like HTTP client in through the
forms, and reading what a page gives its scripts."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx

from tests.conftest import PASSWORD

HTML = {"Accept": "text/html,application/xhtml+xml"}


def csrf_of(html: str) -> str:
    """The CSRF token a page carries (its hidden field or meta tag)."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(
        r'<meta name="csrf-token" content="([^"]+)"', html
    )
    assert found, "the page carries no CSRF token"
    return found.group(1)


def sign_in(http: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    """Sign ``http`` in through the sign-in form (its cookie jar keeps the session)."""
    form = http.get("/login", headers=HTML)
    assert form.status_code == 200, form.text
    reply = http.post(
        "/login",
        data={"identifier": username, "password": password, "csrf_token": csrf_of(form.text)},
    )
    assert reply.status_code == 303, reply.text
    return reply


def page_token(http: httpx.Client) -> str:
    """The CSRF token of the signed-in session (from the account page)."""
    reply = http.get("/account", headers=HTML)
    assert reply.status_code == 200, reply.text
    return csrf_of(reply.text)


class InlineCode(HTMLParser):
    """Collects what a strict Content-Security-Policy would block: inline scripts, style
    elements and attributes, event-handler attributes, and ``javascript:`` addresses."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and not names.get("src"):
            self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style>")
        for name, value in attrs:
            if name == "style" or name.startswith("on"):
                self.found.append(f"{tag} {name}=")
            if value and value.strip().lower().startswith("javascript:"):
                self.found.append(f"{tag} {name}=javascript:")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found
