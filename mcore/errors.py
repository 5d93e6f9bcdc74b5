"""Domain errors raised by ops, each with a sentence a person can act on.

Nothing here knows about HTTP: ``api.errors`` alone maps each class to its status code
and title (RFC 9457 problem details); the shell commands print the sentence.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error an op raises on purpose. ``field`` names the input at fault;
    ``extra`` carries more to show (such as every field's error, or the current head)."""

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra


class Invalid(DomainError):
    """Input that is well-formed but breaks a rule."""


class BadRequest(DomainError):
    """Input that cannot be parsed at all."""


class Unauthorized(DomainError):
    """No credentials, or credentials that are not (or no longer) valid."""


class Forbidden(DomainError):
    """The caller is known but may not do this."""


class NotFound(DomainError):
    """Nothing there, or nothing the caller may see (the two are not told apart)."""


class Conflict(DomainError):
    """The change clashes with the current state (a name taken, a job still running)."""


class Gone(DomainError):
    """It was there, and is no more (deleted, or past its retention)."""


class PreconditionFailed(DomainError):
    """An ``If-Match`` that no longer holds: someone changed it since it was read."""


class TooLarge(DomainError):
    """Over a size limit."""


class UnsupportedType(DomainError):
    """Content of a type this server does not accept."""


class ChecksumMismatch(DomainError):
    """The bytes received do not match the checksum the client sent with them; they were
    not kept."""


class TooManyRequests(DomainError):
    """Too many attempts; ``retry_after`` seconds until the next is counted."""

    def __init__(self, detail: str, *, retry_after: int, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.retry_after = retry_after


class Unavailable(DomainError):
    """A service this depends on (the blob store) is not answering; ``retry_after``
    seconds is a fair wait before trying again."""

    def __init__(self, detail: str, *, retry_after: int = 5, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.retry_after = retry_after


class InsufficientStorage(DomainError):
    """The store has no room left (a full disk or bucket quota); nothing was kept."""


class ClientGone(Exception):
    """The client went away mid-request; there is nobody left to answer."""
