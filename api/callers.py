"""Who is calling: the bearer token of a request, checked against cached session state.

- ``provide_actor``: the dependency every route receives as ``actor``. No
  ``Authorization`` header: the browser's session cookie (``api.browser``; a
  state-changing request needs its CSRF token too, else 403), or without one
  ``ANONYMOUS`` (a guest that reads public content). A bearer access token, API key or
  session cookie that is malformed, expired, revoked, wrongly signed or whose user is
  disabled: 401.
- ``authenticate_token``: who a bearer token belongs to (used by the WebSocket, whose client
  authenticates in its first message, never in the URL).
- ``actor_is_live``: whether the session behind an actor is still valid (revoked, expired,
  user disabled); long-lived connections call it to close themselves. Cheap: no database
  round trip while the state is cached.
- ``fast_actor``: the actor of a request from its headers alone, with no database round trip
  while the credentials are cached, or None when only the full route can tell (bad or
  missing credentials are answered there). The blob fast path (``api.fastpath``) uses it.
- ``authenticate_request``: the app's ``before_request`` hook that refuses bad
  credentials before any dependency is opened.
- ``admin_guard``: a route guard for admin-only endpoints (the ops check again).

Signed links are checked by the routes that serve bytes (``mcore.auth.links``).
"""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.handlers import BaseRouteHandler
from litestar.types import HTTPScope

from api.browser import (
    CSRF_HEADER,
    SAFE_METHODS,
    SESSION_COOKIE,
    require_csrf,
    session_cookie_value,
)
from api.state import AppState, app_state
from mcore.access import ANONYMOUS, Actor
from mcore.auth import Auth
from mcore.errors import DomainError, Forbidden, Unauthorized

_ACTOR = "mstack_actor"
BAD_CREDENTIALS = (
    "the access token or API key is not valid (expired, revoked, or not from this server);"
    " sign in again"
)
SESSION_ENDED = "the browser's session has ended (signed out, revoked or expired); sign in again"


def bearer_token(headers: Any) -> str | None:
    """The token of an ``Authorization: Bearer`` header; None when there is no header.

    ``Unauthorized`` when the header is there but is not a bearer token.
    """
    header = headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("send credentials as 'Authorization: Bearer <token>'")
    return token


async def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    """The caller of this request (computed once per request)."""
    cached = request.scope.get(_ACTOR)
    if isinstance(cached, Actor):
        return cached
    token = bearer_token(request.headers)
    actor = ANONYMOUS
    app = app_state(request.app.state)
    if token is not None:
        found = await authenticate_token(app, token)
        if found is None:
            raise Unauthorized(BAD_CREDENTIALS)
        actor = found
    elif (cookie := session_cookie_value(request.cookies)) is not None:
        found = await app.auth.authenticate_browser(cookie)
        if found is None:
            raise Unauthorized(SESSION_ENDED)
        if request.scope.get("method") not in SAFE_METHODS:
            require_csrf(app, request, found, request.headers.get(CSRF_HEADER))
        actor = found
    request.scope[_ACTOR] = actor  # type: ignore[literal-required]
    return actor


async def authenticate_request(request: Request[Any, Any, Any]) -> None:
    """Before a handler that takes ``actor``: authenticate, or refuse with 401.

    Done here rather than in the dependency so a refusal happens before any other
    dependency (the database session) is opened: Litestar does not clean up dependencies
    already resolved when a sibling dependency raises.
    """
    if "actor" in request.route_handler.parsed_fn_signature.parameters:
        await provide_actor(request)


async def authenticate_token(app: AppState, token: str) -> Actor | None:
    """The actor a bearer token (access token or API key) stands for; None if not valid."""
    return await app.auth.authenticate(token)


async def actor_is_live(app: AppState, actor: Actor) -> bool:
    """False once the actor's session or key has been revoked or has expired, or its user
    has been disabled."""
    return await app.auth.is_live(actor)


async def fast_actor(app: AppState, scope: HTTPScope) -> Actor | None:
    """The caller from the request's headers, without the database while cached; None to let
    the full route decide (and refuse bad credentials with its 401)."""
    header = next((v for k, v in scope["headers"] if k == b"authorization"), None)
    try:
        if header is None:
            cookie = _cookie(scope)
            return ANONYMOUS if cookie is None else await app.auth.authenticate_browser(cookie)
        scheme, _, token = header.decode("latin-1").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return await app.auth.authenticate(token.strip())
    except DomainError:
        return None


def _cookie(scope: HTTPScope) -> str | None:
    """The session cookie in a request's headers, if any."""
    raw = next((v for k, v in scope["headers"] if k == b"cookie"), None)
    if raw is None:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw.decode("latin-1"))
    except CookieError:
        return None
    found = jar.get(SESSION_COOKIE)
    return found.value or None if found is not None else None


async def admin_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Let only admins through (401 for no or bad credentials, 403 for other roles)."""
    actor = await provide_actor(connection)  # type: ignore[arg-type]
    if actor is ANONYMOUS:
        raise Unauthorized("sign in as an admin first")
    if not actor.is_admin:
        raise Forbidden("only an admin may manage users and their sessions")


def provide_auth(state: State) -> Auth:
    return app_state(state).auth
