"""Who is looking at a page, and the forms they send.

Pages know only the session cookie (never bearer tokens). A cookie that is no longer
valid makes the viewer a stranger, who is sent to the sign-in page where it is needed.
Every form a page receives comes through :func:`provide_form`, which refuses (403) one
without the viewer's CSRF token before the handler runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from litestar import Request
from litestar.datastructures import Cookie, State, UploadFile
from litestar.di import NamedDependency

from api.browser import (
    CSRF_FIELD,
    NONCE_COOKIE,
    SESSION_COOKIE,
    cleared_session_cookie,
    cookie_actor,
    csrf_token,
    nonce_cookie,
    require_csrf,
)
from api.state import AppState, app_state
from mcore.access import Actor

FORM_MAX_FIELD = 8192  # characters of one form field; longer ones are refused by the ops


@dataclass
class Viewer:
    """The person behind a page request: ``actor`` when signed in."""

    actor: Actor | None
    csrf: str
    cookies: list[Cookie] = field(default_factory=list)  # to set on the response

    @property
    def signed_in(self) -> bool:
        return self.actor is not None


class SignInRequired(Exception):
    """A page that needs an account, asked for by a stranger: answered by a redirect to
    the sign-in page that comes back here."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def login_address(back_to: str) -> str:
    return "/login" if back_to == "/" else f"/login?next={quote(back_to, safe='/')}"


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path on this site, never another site's address
    (``//host``, ``/\\host``, ``https:``)."""
    if (
        not value
        or len(value) > 2000
        or not value.startswith("/")
        or value.startswith(("//", "/\\"))
        or any(ch < " " or ch == "\\" for ch in value)
    ):
        return "/"
    return value


async def provide_viewer(request: Request[Any, Any, Any], state: State) -> Viewer:
    """The viewer of this request, computed once, with a CSRF token for its forms."""
    cached = request.scope.get("mstack_viewer")
    if isinstance(cached, Viewer):
        return cached
    app = app_state(state)
    actor = await cookie_actor(app, request)
    cookies: list[Cookie] = []
    nonce = None
    if actor is None:
        if request.cookies.get(SESSION_COOKIE):
            cookies.append(cleared_session_cookie(request))  # ended: forget it
        nonce = request.cookies.get(NONCE_COOKIE)
        if not nonce or len(nonce) > 64:
            nonce = app.auth.browser.new_nonce()
            cookies.append(nonce_cookie(request, nonce))
    viewer = Viewer(actor=actor, csrf=csrf_token(app, actor, nonce), cookies=cookies)
    request.scope["mstack_viewer"] = viewer  # type: ignore[typeddict-unknown-key]
    return viewer


def require_account(request: Request[Any, Any, Any], viewer: Viewer) -> Actor:
    """The signed-in viewer's actor; a stranger is sent to sign in first."""
    if viewer.actor is None:
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(back)
    return viewer.actor


class Form:
    """The fields of a submitted form, as text."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        self._fields = fields

    def text(self, name: str) -> str:
        values = self._fields.get(name)
        return values[0] if values else ""

    def optional(self, name: str) -> str | None:
        """The field's text, or None when it was left empty."""
        value = self.text(name).strip()
        return value or None

    def all(self, name: str) -> list[str]:
        return list(self._fields.get(name, []))

    @property
    def fields(self) -> dict[str, list[str]]:
        """Every field by name, each with the values given (in order)."""
        return self._fields


async def provide_form(request: Request[Any, Any, Any], state: State) -> Form:
    """The request's form, once its CSRF token has been checked (403 otherwise)."""
    app: AppState = app_state(state)
    viewer = await provide_viewer(request, state)
    raw = await request.form()
    fields: dict[str, list[str]] = {}
    for key, value in raw.multi_items():
        if isinstance(value, UploadFile):
            continue  # no page form takes files: uploads go to the API
        fields.setdefault(key, []).append(str(value)[:FORM_MAX_FIELD])
    token = fields.get(CSRF_FIELD, [None])[0]
    require_csrf(app, request, viewer.actor, token)
    return Form(fields)


# Handler parameter types: ``viewer: PageViewer``, ``form: PageForm``.
PageViewer = NamedDependency[Viewer]
PageForm = NamedDependency[Form]
