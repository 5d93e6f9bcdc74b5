"""The watch over the whole run's logs (tests/secretwatch.py) sees what it is meant to."""

from __future__ import annotations

import logging

from tests.conftest import PASSWORD
from tests.secretwatch import WATCH


def test_a_logged_secret_is_seen_and_the_test_client_is_not_watched() -> None:
    leaks = [
        f"sign-in with {PASSWORD}",
        "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIwMW0ifQ.c2lnbmF0dXJl",
        "key msk_" + "A" * 43,
        "GET /l/abc?exp=1&sig=0123456789abcdef0123 200",
    ]
    for text in leaks:
        logging.getLogger("mcore.auth").warning("%s", text)
    logging.getLogger("httpx").warning("GET /l/abc?exp=1&sig=0123456789abcdef0123")
    logging.getLogger("mcore.files").warning("uploaded msk.txt, sig=short")  # not a secret
    found, WATCH.found[:] = list(WATCH.found), []
    assert len(found) == len(leaks)
    for seen, text in zip(found, leaks, strict=True):
        assert text in seen


def test_the_watch_still_sees_after_a_server_set_up_its_logging() -> None:
    from mcore.logs import configure

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        configure("info", "json")  # what `mstack serve` does: replaces the root's handlers
        logging.getLogger("uvicorn.error").warning("token msr_%s", "B" * 43)  # no propagation
        found, WATCH.found[:] = list(WATCH.found), []
        assert len(found) == 1
        assert "msr_" in found[0]
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
