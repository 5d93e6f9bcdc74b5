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


def pixels(count: int | float) -> str:
    """A pixel count for a message, never rounded to zero: ``268.4 MP``, ``40,000 pixels``."""
    if count >= 1e9:
        return f"{count / 1e6:,.0f} MP"
    if count >= 100_000:
        return f"{count / 1e6:.4g} MP"
    whole = int(count)
    return f"{whole:,} pixel" if whole == 1 else f"{whole:,} pixels"


def duration(seconds: float) -> str:
    """A length of time for a message, never rounded to zero: ``0.5 s``, ``1 h 30 min``."""
    if seconds < 60:
        return f"{seconds:.3g} s"
    hours, rest = divmod(round(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    parts.append(f"{secs} s" if secs else "")
    return " ".join(p for p in parts if p)
