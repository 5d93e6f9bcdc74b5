"""Domain errors raised by ops. One handler in ``api`` maps them to problem details.

Each carries a sentence a person can act on. Nothing here knows about HTTP; ``status``
is only the hint the API layer uses.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error an op raises on purpose."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra


class Invalid(DomainError):
    """Input that is well-formed but breaks a rule (422)."""

    status = 422
    title = "Invalid input"


class BadRequest(DomainError):
    """Input that cannot be parsed at all (400)."""

    status = 400
    title = "Bad request"


class Unauthorized(DomainError):
    status = 401
    title = "Not signed in"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class Gone(DomainError):
    status = 410
    title = "Gone"


class PreconditionFailed(DomainError):
    """An ``If-Match`` that no longer holds (412)."""

    status = 412
    title = "Precondition failed"


class TooLarge(DomainError):
    status = 413
    title = "Content too large"


class UnsupportedType(DomainError):
    status = 415
    title = "Unsupported media type"


class TooManyRequests(DomainError):
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.retry_after = retry_after


class ClientGone(Exception):
    """The client went away mid-request; there is nobody left to answer."""
