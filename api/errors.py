"""One place that turns errors into RFC 9457 problem-details responses.

Domain errors carry their own sentence, and ``DOMAIN_PROBLEMS`` here alone gives each
class its status code and title (nothing in ``mcore`` knows HTTP); Litestar's own
errors (validation, unknown route) are reshaped; anything unexpected is logged with its
trace and answered with a bare 500 that reveals nothing.
"""

from __future__ import annotations

import errno
import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.params import ParameterKwarg
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap

from api.timeouts import BodyTimedOut
from mcore import metrics
from mcore.auth.links import LinkRefused
from mcore.errors import (
    BadRequest,
    ChecksumMismatch,
    ClientGone,
    Conflict,
    DomainError,
    Forbidden,
    Gone,
    InsufficientStorage,
    Invalid,
    NotFound,
    PreconditionFailed,
    TooLarge,
    TooManyRequests,
    Unauthorized,
    Unavailable,
    UnsupportedType,
)

log = logging.getLogger("mstack.api")
PROBLEM = "application/problem+json"

# Each domain error's status code and title; a subclass not listed takes its base's.
DOMAIN_PROBLEMS: dict[type[DomainError], tuple[int, str]] = {
    DomainError: (400, "Bad request"),
    BadRequest: (400, "Bad request"),
    Unauthorized: (401, "Not signed in"),
    Forbidden: (403, "Forbidden"),
    LinkRefused: (403, "Link refused"),
    NotFound: (404, "Not found"),
    Conflict: (409, "Conflict"),
    Gone: (410, "Gone"),
    PreconditionFailed: (412, "Precondition failed"),
    TooLarge: (413, "Content too large"),
    UnsupportedType: (415, "Unsupported media type"),
    Invalid: (422, "Invalid input"),
    TooManyRequests: (429, "Too many requests"),
    ChecksumMismatch: (460, "Checksum mismatch"),  # tus 1.0's checksum extension
    Unavailable: (503, "Service unavailable"),
    InsufficientStorage: (507, "Insufficient storage"),
}

_TITLES = {
    400: "Bad request",
    401: "Not signed in",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    408: "Request timeout",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    460: "Checksum mismatch",
    500: "Internal server error",
    507: "Insufficient storage",
}


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return Response(body, status_code=status, media_type=PROBLEM, headers=headers)


def status_and_title(exc: DomainError) -> tuple[int, str]:
    """The status code and title of a domain error: its class's, or its nearest base's."""
    for cls in type(exc).__mro__:
        if cls in DOMAIN_PROBLEMS:
            return DOMAIN_PROBLEMS[cls]
    raise AssertionError("DomainError is in the table")


def domain_error(_: Request[Any, Any, Any], exc: DomainError) -> Response[dict[str, Any]]:
    status, title = status_and_title(exc)
    headers = None
    if isinstance(exc, TooManyRequests | Unavailable):
        headers = {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, Unavailable | InsufficientStorage):
        metrics.blob_store_errors.labels("full" if status == 507 else "unavailable").inc()
    elif isinstance(exc, Unauthorized):
        headers = {"WWW-Authenticate": 'Bearer realm="mstack"'}
    extra = dict(exc.extra)
    if exc.field:
        extra.setdefault("errors", [{"field": exc.field, "message": exc.detail}])
    return problem(status, exc.detail, title=title, headers=headers, **extra)


def _field_name(request: Request[Any, Any, Any], key: str | None) -> str | None:
    """The name the client used: a parameter's declared name (``?state=``), not the
    handler's Python argument (``job_state``, as ``state`` is reserved by Litestar)."""
    if not key:
        return None
    try:
        parameter = request.route_handler.parsed_fn_signature.parameters.get(key)
    except (AttributeError, KeyError):  # no route handler yet: keep the key as it is
        return key
    declared = getattr(parameter, "kwarg_definition", None)
    if isinstance(declared, ParameterKwarg) and declared.name:
        return declared.name
    return key


def validation_error(
    request: Request[Any, Any, Any], exc: ValidationException
) -> Response[dict[str, Any]]:
    errors = []
    if isinstance(exc.extra, list):
        for item in exc.extra:
            if isinstance(item, dict):
                errors.append(
                    {"field": _field_name(request, item.get("key")), "message": item.get("message")}
                )
    fields = ", ".join(e["field"] for e in errors if e["field"])
    detail = f"invalid value for {fields}" if fields else exc.detail
    if errors and errors[0]["message"] and len(errors) == 1:
        detail = f"{errors[0]['field'] or 'request'}: {errors[0]['message']}"
    return problem(422, detail, errors=errors or None)


def http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    detail = exc.detail
    if isinstance(exc, NotFoundException) and detail == "Not Found":
        detail = "there is nothing at this address"
    return problem(exc.status_code, detail, headers=exc.headers)


def client_gone(request: Request[Any, Any, Any], _: ClientGone) -> Response[dict[str, Any]]:
    log.info("client went away during %s %s", request.method, request.url.path)
    return problem(400, "the client closed the connection before the request was complete")


def body_timed_out(request: Request[Any, Any, Any], exc: BodyTimedOut) -> Response[dict[str, Any]]:
    log.info("request body stalled during %s %s: %s", request.method, request.url.path, exc)
    return problem(
        408,
        f"{exc}; nothing of this request was kept. Send it again",
        headers={"Connection": "close"},  # the rest of the body may still be on its way
    )


_NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    if isinstance(exc, OSError) and exc.errno in _NO_ROOM:
        metrics.blob_store_errors.labels("full").inc()
        log.error("no room to store on %s %s: %s", request.method, request.url.path, exc)
        return problem(
            507,
            "the server has no room left to store this; nothing was kept. Tell its"
            " administrator, and try again later",
        )
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(
        HTTP_500_INTERNAL_SERVER_ERROR,
        "something went wrong on the server; it has been logged",
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    DomainError: domain_error,
    ValidationException: validation_error,
    HTTPException: http_error,
    ClientGone: client_gone,
    BodyTimedOut: body_timed_out,
    Exception: unexpected,
}
