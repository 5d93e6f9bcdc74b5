"""Opaque, time-sortable identifiers (ULID layout, lower-case Crockford base32)."""

from __future__ import annotations

import os
import re
import threading

from mcore.clock import clock

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_PATTERN = re.compile(r"^[0-9a-hjkmnp-tv-z]{26}$")
_lock = threading.Lock()
_last = (0, 0)


def new_id() -> str:
    """A 26-character id: 48 bits of milliseconds, then 80 bits that only grow within one ms."""
    global _last
    ms = int(clock.time() * 1000)
    with _lock:
        last_ms, last_rand = _last
        if ms <= last_ms:
            ms, rand = last_ms, last_rand + 1
        else:
            rand = int.from_bytes(os.urandom(10), "big") >> 1
        _last = (ms, rand)
    value = (ms << 80) | (rand & ((1 << 80) - 1))
    out = []
    for _ in range(26):
        out.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


def is_id(text: str) -> bool:
    """True when ``text`` has the shape of an id made by :func:`new_id`."""
    return bool(_PATTERN.match(text))
