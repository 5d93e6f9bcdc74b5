"""Friendly error pages for page addresses; the API keeps its problem details.

A request is for a page when its path is outside the API's and the browser asks for HTML
(a navigation's ``Accept`` names ``text/html``; curl's ``*/*`` and scripts' JSON do not).
A 500 page says that something went wrong and nothing more: the trace goes to the log.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Redirect
from litestar.types import ExceptionHandler, ExceptionHandlersMap

from api.errors import status_and_title
from api.web.render import page
from api.web.viewer import SignInRequired, Viewer, login_address
from mcore.errors import DomainError

log = logging.getLogger("mstack.web")
API_PREFIXES = ("/api/", "/blobs/", "/schema", "/health", "/ready", "/metrics")
MESSAGES = {
    400: ("Bad request", "The request could not be understood."),
    401: ("Please sign in", "This page needs you to be signed in."),
    403: ("Not allowed", "You may not do this."),
    404: ("Not found", "There is nothing at this address, or it is not yours to see."),
    405: ("Not allowed", "This address does not take that kind of request."),
    409: ("Conflict", "This clashes with something that is already there."),
    410: ("Deleted", "This was deleted. Its history stays, for its owner to revert."),
    412: ("Changed meanwhile", "This changed since you opened it: load it again and retry."),
    413: ("Too large", "What was sent is larger than this page takes."),
    422: ("Not valid", "Something in what was sent is not valid."),
    429: ("Too many tries", "Wait a little, then try again."),
    500: ("Something went wrong", "Something went wrong on the server; it has been logged."),
}


def wants_page(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    if path.startswith(API_PREFIXES):
        return False
    return "text/html" in request.headers.get("accept", "")


def error_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The page for an error raised while answering a page address."""
    if isinstance(exc, SignInRequired):
        return Redirect(login_address(exc.path), status_code=303)
    detail: str | None = None
    if isinstance(exc, DomainError):
        status = status_and_title(exc)[0]
        detail = exc.detail  # written for people; escaped by the template
    elif isinstance(exc, HTTPException):
        status = exc.status_code
    else:
        log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        status = 500
    title, sentence = MESSAGES.get(status, MESSAGES[400] if status < 500 else MESSAGES[500])
    viewer = request.scope.get("mstack_viewer")
    context = {
        "viewer": viewer if isinstance(viewer, Viewer) else None,
        "status": status,
        "title": title,
        "sentence": sentence,
        "detail": detail,
    }
    return page(request, "error.html", context, status=status)


def with_error_pages(handlers: ExceptionHandlersMap) -> ExceptionHandlersMap:
    """The app's handlers, each answering a page request with an error page instead."""

    def wrap(handler: ExceptionHandler) -> ExceptionHandler:
        def answer(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
            if wants_page(request):
                return error_page(request, exc)
            return handler(request, exc)

        return answer

    return {key: wrap(handler) for key, handler in handlers.items()}
