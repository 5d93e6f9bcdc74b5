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
