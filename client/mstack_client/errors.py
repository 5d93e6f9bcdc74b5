"""One exception class per kind of problem, carrying the server's problem details.

Every error the SDK raises on purpose is an ``MstackError``. Errors answered by the server
are ``ApiError`` subclasses chosen by status code; each keeps the RFC 9457 body
(``problem``), its ``detail`` sentence and the per-field ``errors`` list.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

__all__ = [
    "ApiError",
    "BadRequest",
    "Conflict",
    "ConnectionFailed",
    "Forbidden",
    "Gone",
    "IntegrityError",
    "Interrupted",
    "Invalid",
    "JobFailed",
    "MstackError",
    "NotFound",
    "NotSignedIn",
    "PreconditionFailed",
    "RangeNotSatisfiable",
    "RateLimited",
    "ServerError",
    "TooLarge",
    "Unauthorized",
    "UnsupportedType",
    "error_from_response",
]


class MstackError(Exception):
    """Base of every error the SDK raises on purpose."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able description (what ``mstack --json`` prints on failure)."""
        return {"error": type(self).__name__, "detail": self.detail}


class ApiError(MstackError):
    """The server answered with an error status; ``problem`` is its problem-details body."""

    status = 0

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        problem: dict[str, Any] | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(detail)
        if status is not None:
            self.status = status
        self.problem: dict[str, Any] = problem or {}
        self.method = method
        self.url = url

    @property
    def title(self) -> str | None:
        title = self.problem.get("title")
        return title if isinstance(title, str) else None

    @property
    def errors(self) -> list[dict[str, Any]]:
        """Per-field messages (``[{"field": ..., "message": ...}]``), when the server gave any."""
        errors = self.problem.get("errors")
        return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "status": self.status, "problem": self.problem}

    def __str__(self) -> str:
        return self.detail


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    """Not signed in, or the session or key is no longer valid (401)."""

    status = 401


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class Gone(ApiError):
    status = 410


class PreconditionFailed(ApiError):
    """An ``If-Match`` that no longer holds: someone else changed the object first (412)."""

    status = 412


class TooLarge(ApiError):
    status = 413


class UnsupportedType(ApiError):
    status = 415


class RangeNotSatisfiable(ApiError):
    status = 416


class Invalid(ApiError):
    """Input that breaks a rule, such as bytes that do not match the expected CID (422)."""

    status = 422


class RateLimited(ApiError):
    """Too many requests; ``retry_after`` says how many seconds to wait (429)."""

    status = 429

    def __init__(self, detail: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.retry_after = retry_after

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "retry_after": self.retry_after}


class ServerError(ApiError):
    """The server failed (5xx); nothing the caller did wrong."""

    status = 500


class NotSignedIn(MstackError):
    """No credentials to send: sign in or pass an API key first."""


class ConnectionFailed(MstackError):
    """The server could not be reached, or the connection broke."""


class IntegrityError(MstackError):
    """Bytes did not hash to the CID they should have: nothing was kept."""

    def __init__(self, detail: str, *, expected: str, actual: str) -> None:
        super().__init__(detail)
        self.expected = expected
        self.actual = actual

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "expected": self.expected, "actual": self.actual}


class Interrupted(MstackError):
    """A download stopped early; the partial file is kept and the next call resumes it."""

    def __init__(self, detail: str, *, received: int) -> None:
        super().__init__(detail)
        self.received = received


class JobFailed(MstackError):
    """A job being waited for ended in failure; ``job`` holds its final state."""

    def __init__(self, detail: str, *, job: Any) -> None:
        super().__init__(detail)
        self.job = job


_BY_STATUS: dict[int, type[ApiError]] = {
    cls.status: cls
    for cls in (
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        Gone,
        PreconditionFailed,
        TooLarge,
        UnsupportedType,
        RangeNotSatisfiable,
        Invalid,
        RateLimited,
    )
}


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def error_from_response(response: httpx.Response) -> ApiError:
    """The exception for an error response (its body must have been read)."""
    status = response.status_code
    problem: dict[str, Any] = {}
    try:
        body = json.loads(response.content) if response.content else None
    except ValueError:
        body = None
    if isinstance(body, dict):
        problem = body
    detail = problem.get("detail")
    if not isinstance(detail, str) or not detail:
        text = response.text.strip().splitlines()[0][:200] if response.text.strip() else ""
        detail = f"{response.reason_phrase or 'error'} ({status})" + (f": {text}" if text else "")
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else ApiError
    kwargs: dict[str, Any] = {
        "status": status,
        "problem": problem,
        "method": response.request.method,
        "url": str(response.request.url),
    }
    if cls is RateLimited:
        return RateLimited(
            detail, retry_after=_retry_after(response.headers.get("retry-after")), **kwargs
        )
    return cls(detail, **kwargs)
