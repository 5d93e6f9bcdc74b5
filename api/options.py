"""Answers to ``OPTIONS``: ``Allow`` lists every method of every handler at the path.

Litestar 2 builds one ``OPTIONS`` handler per path when the first handler of that path is
registered, and keeps it when handlers for other methods join the same path later, so its
``Allow`` listed only the first ones (``/api/v1/artists`` had no GET; litestar#4169, fixed
in Litestar 3). This middleware answers in its place from a table made once the app has
all its routes. It runs before guards: which methods a path takes is no secret (the
OpenAPI document at ``/schema`` says the same to anyone).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

_ALLOW = "mstack_allow"  # app state key: path template ({name}, no types) -> Allow

# What a path adds to its OPTIONS answer, by path template (tus advertises its version,
# extensions and limits there): the headers, from the request's scope.
ExtraHeaders = Callable[[Scope], Awaitable[list[tuple[bytes, bytes]]]]
EXTRA_HEADERS: dict[str, ExtraHeaders] = {}


def record_allowed_methods(app: Litestar) -> None:
    """Remember, for each path of ``app``, the methods its handlers accept."""
    app.state[_ALLOW] = {
        route.path_format: ", ".join(sorted(route.methods))
        for route in app.routes
        if isinstance(route, HTTPRoute)
    }


def _litestars_own(handler: Any) -> bool:
    return getattr(getattr(handler, "fn", None), "__module__", None) == "litestar.routes.http"


def options_middleware(app: ASGIApp) -> ASGIApp:
    """Answer OPTIONS where Litestar's default handler would; pass everything else on."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and cast(HTTPScope, scope)["method"] == "OPTIONS":
            handler = scope.get("route_handler")
            table: dict[str, str] = scope["litestar_app"].state[_ALLOW]
            allow = table.get(scope.get("path_template", ""))
            if allow is not None and _litestars_own(handler):
                headers = [(b"allow", allow.encode())]
                extra = EXTRA_HEADERS.get(scope.get("path_template", ""))
                if extra is not None:
                    headers += await extra(scope)
                start = {"type": "http.response.start", "status": 204, "headers": headers}
                await send(cast(Message, start))
                await send(cast(Message, {"type": "http.response.body", "body": b""}))
                return
        await app(scope, receive, send)

    return middleware
