"""The one place mstack reads the time, so tests can move it."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    """Wall-clock time; tests replace ``clock.offset`` or ``clock.frozen``."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.frozen: float | None = None

    def time(self) -> float:
        """Seconds since the Unix epoch."""
        return self.frozen if self.frozen is not None else time.time() + self.offset

    def now(self) -> datetime:
        """The current time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.time(), UTC)


clock = Clock()


def utcnow() -> datetime:
    return clock.now()
