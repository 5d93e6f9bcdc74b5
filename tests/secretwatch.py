"""A pytest plugin: no line any of mstack's loggers writes, in any test of the run, carries a
secret (a password, an access or refresh token, an API key, a signed link's signature, an
S3 secret key). A test whose server logged one fails at teardown, naming the line.

It watches mstack's own loggers and the servers it runs on (uvicorn, Litestar), not the
tests' HTTP client (httpx logs the URLs a test asks for, signed ones included).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest

from tests.conftest import PASSWORD
from tests.s3server import SECRET_KEY

WATCHED = ("mcore", "api", "mart", "mstack", "mstack_client", "uvicorn", "litestar")
SECRETS = re.compile(
    "|".join(
        [
            re.escape(PASSWORD),
            re.escape(SECRET_KEY),
            r"eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.",  # a signed JWT (access token)
            r"\bms[rk]_[\w-]{20,}",  # a refresh token or an API key
            r"[?&]sig=[\w-]{16,}",  # a signed link's signature
        ]
    )
)


class SecretWatch(logging.Handler):
    """Remembers every watched log line that matches a secret."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(WATCHED):
            return
        try:
            text = record.getMessage()
        except Exception:  # a malformed record is not ours to judge
            return
        if record.exc_info and not record.exc_text:
            text += logging.Formatter().formatException(record.exc_info)
        elif record.exc_text:
            text += record.exc_text
        if SECRETS.search(text):
            self.found.append(f"{record.name}: {text[:500]}")


WATCH = SecretWatch()


def pytest_configure(config: pytest.Config) -> None:
    logging.getLogger().addHandler(WATCH)


@pytest.fixture(autouse=True)
def no_secret_logged() -> Iterator[None]:
    root = logging.getLogger()
    if WATCH not in root.handlers:  # mcore.logs.configure (a server run in-process) replaced it
        root.addHandler(WATCH)
    WATCH.found.clear()
    yield
    found, WATCH.found[:] = list(WATCH.found), []
    assert not found, "a secret was logged:\n" + "\n".join(found)
