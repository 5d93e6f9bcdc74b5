"""Why processing a file failed, in words a person can act on."""

from __future__ import annotations


class ProcessingError(Exception):
    """A job attempt failed. ``permanent``: retrying cannot help (bad or over-limit input)."""

    def __init__(self, message: str, *, permanent: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


class OverLimit(ProcessingError):
    """The file is over a configured limit; it stays stored and downloadable."""
