"""Browser sessions over HTTP: the session cookie, the CSRF nonce cookie, and the checks.

- The session cookie (``mstack_session``) holds a sealed session id
  (``mcore.auth.browser``): HttpOnly, SameSite=Lax, Secure when the request came over
  HTTPS (directly, or through a proxy listed in ``forwarded_allow_ips`` that says so in
  ``X-Forwarded-Proto``: uvicorn then reports the scheme as https).
- The API accepts it in place of a bearer token. A state-changing request authenticated
  by the cookie must carry the session's CSRF token in ``X-CSRF-Token``, or is refused
  with 403; bearer-token requests need none (a cross-site page cannot set that header).
- Signed out, the sign-in and registration forms bind their CSRF token to a random nonce
  in a second cookie (``mstack_csrf``).
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import Cookie

from api.state import AppState
from mcore.access import Actor
from mcore.errors import Forbidden

SESSION_COOKIE = "mstack_session"
NONCE_COOKIE = "mstack_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
NONCE_MAX_AGE = 24 * 3600
CSRF_REFUSED = (
    "this request is signed in by the browser's session cookie but does not carry the"
    " page's CSRF token: send it in the X-CSRF-Token header (or the form's csrf_token"
    " field); reload the page if it was open for long"
)


def is_https(request: Request[Any, Any, Any]) -> bool:
    return request.url.scheme == "https"


def _cookie(request: Request[Any, Any, Any], key: str, value: str, max_age: int) -> Cookie:
    return Cookie(
        key=key,
        value=value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request),
    )


def session_cookie(request: Request[Any, Any, Any], app: AppState, value: str) -> Cookie:
    """The cookie that signs this browser in, for as long as a session lasts."""
    max_age = int(app.settings.session_ttl.total_seconds())
    return _cookie(request, SESSION_COOKIE, value, max_age)


def nonce_cookie(request: Request[Any, Any, Any], nonce: str) -> Cookie:
    return _cookie(request, NONCE_COOKIE, nonce, NONCE_MAX_AGE)


def cleared_session_cookie(request: Request[Any, Any, Any]) -> Cookie:
    return _cookie(request, SESSION_COOKIE, "", 0)


def session_cookie_value(headers_cookies: dict[str, str]) -> str | None:
    value = headers_cookies.get(SESSION_COOKIE)
    return value or None


async def cookie_actor(app: AppState, request: Request[Any, Any, Any]) -> Actor | None:
    """Who the request's session cookie signs in; None without a cookie or when it is not
    valid (any more)."""
    value = session_cookie_value(request.cookies)
    return None if value is None else await app.auth.authenticate_browser(value)


def csrf_token(app: AppState, actor: Actor | None, nonce: str | None) -> str:
    """The token a page gives its forms and scripts."""
    if actor is not None and actor.session_id is not None:
        return app.auth.browser.csrf_token(session_id=actor.session_id)
    assert nonce is not None
    return app.auth.browser.csrf_token(nonce=nonce)


def require_csrf(
    app: AppState, request: Request[Any, Any, Any], actor: Actor | None, token: str | None
) -> None:
    """Refuse (403) a state-changing request whose CSRF token is not the one of its
    session (signed in) or of its nonce cookie (signed out)."""
    seals = app.auth.browser
    if actor is not None and actor.session_id is not None:
        ok = seals.csrf_ok(token, session_id=actor.session_id)
    else:
        ok = seals.csrf_ok(token, nonce=request.cookies.get(NONCE_COOKIE))
    if not ok:
        raise Forbidden(CSRF_REFUSED)
