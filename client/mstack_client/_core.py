"""What the sync and async clients share: requests described once, credentials, answers.

An API operation is a ``Call``: method, path, query, JSON body, and how to read the
answer. ``Client`` and ``AsyncClient`` only differ in how they send one, so every
method (hand-written here or generated per model) behaves the same on both.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import quote

import httpx

from mstack_client._version import __version__
from mstack_client.config import find_login
from mstack_client.errors import ConnectionFailed, NotSignedIn, error_from_response
from mstack_client.models import Tokens

T = TypeVar("T")

DEFAULT_URL = "http://127.0.0.1:8000"
REFRESH_MARGIN = 30.0  # refresh an access token this many seconds before it ends
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
USER_AGENT = f"mstack-client/{__version__} httpx/{httpx.__version__}"


@dataclass(frozen=True)
class Call(Generic[T]):
    """One API operation, independent of how it is sent."""

    method: str
    path: str
    parse: Callable[[Any], T]
    params: dict[str, Any] | None = None
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    auth: bool = True


def segment(value: str) -> str:
    """A path segment from a caller's value (ids, CIDs), escaped so it stays one segment."""
    return quote(str(value), safe="")


def params(**values: Any) -> dict[str, Any]:
    """Query parameters without the ones left out (None), booleans as the server reads them."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return out


class SyncCaller(Protocol):
    """What sends a ``Call`` and returns its answer: ``Client`` (for generated classes)."""

    def _call(self, call: Call[T]) -> T: ...


class AsyncCaller(Protocol):
    """What sends a ``Call`` and awaits its answer: ``AsyncClient``."""

    async def _call(self, call: Call[T]) -> T: ...


class TokenStore(Protocol):
    """Where a session's tokens live between runs (the CLI keeps them in a file).

    Refresh tokens are single-use, so a refresh runs under ``lock()`` and first re-reads
    the store: another process may already have swapped the token this one holds.
    """

    def load(self) -> Tokens | None: ...

    def save(self, tokens: Tokens | None) -> None: ...

    def lock(self) -> contextlib.AbstractContextManager[None]: ...


class MemoryTokenStore:
    """Tokens kept in memory only (the default)."""

    def __init__(self, tokens: Tokens | None = None) -> None:
        self.tokens = tokens

    def load(self) -> Tokens | None:
        return self.tokens

    def save(self, tokens: Tokens | None) -> None:
        self.tokens = tokens

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        yield


class Base:
    """Configuration, credentials and answer handling for both clients.

    Given no credentials (``api_key``, ``tokens`` or ``token_store``), a client uses what
    ``mstack`` would: ``MSTACK_API_KEY``, else the API key or session stored by ``mstack
    login`` for its server; given no ``base_url``, ``MSTACK_URL``, else the server last
    signed in to, else ``http://127.0.0.1:8000``. A stored session is used in place, as
    ``mstack`` does: its refreshes (and a ``login()``) are kept for ``mstack`` too.
    ``use_env=False`` reads none of them.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        api_key: str | None = None,
        tokens: Tokens | None = None,
        token_store: TokenStore | None = None,
        use_env: bool = True,
    ) -> None:
        if use_env and api_key is None and tokens is None and token_store is None:
            login = find_login(base_url)
            base_url, api_key, token_store = login.url, login.api_key, login.token_store
        elif use_env and base_url is None:
            base_url = find_login().url
        self.base_url = (base_url or DEFAULT_URL).rstrip("/")
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(
                f"the server address must start with http:// or https://: {base_url!r}"
            )
        self.api_key = api_key
        self.token_store: TokenStore = token_store or MemoryTokenStore(tokens)
        if tokens is not None and token_store is not None:
            token_store.save(tokens)
        self._tokens = tokens if tokens is not None else self.token_store.load()

    @property
    def tokens(self) -> Tokens | None:
        """The session's current tokens (None when using an API key or not signed in)."""
        return self._tokens

    @property
    def signed_in(self) -> bool:
        return self.api_key is not None or self._tokens is not None

    def _credential(self) -> str | None:
        if self.api_key is not None:
            return self.api_key
        return self._tokens.access_token if self._tokens is not None else None

    def _auth_headers(self, required: bool) -> dict[str, str]:
        credential = self._credential()
        if credential is None:
            if required:
                raise NotSignedIn("not signed in: log in or give an API key first")
            return {}
        return {"Authorization": f"Bearer {credential}"}

    def _should_refresh_soon(self) -> bool:
        tokens = self._tokens
        return (
            self.api_key is None
            and tokens is not None
            and tokens.refresh_token is not None
            and tokens.expires_at is not None
            and tokens.expires_at - REFRESH_MARGIN <= time.time()
        )

    def _can_refresh(self) -> bool:
        return (
            self.api_key is None
            and self._tokens is not None
            and self._tokens.refresh_token is not None
        )

    def _adopt(self, tokens: Tokens | None) -> None:
        self._tokens = tokens

    def _refresh_call(self, refresh_token: str) -> Call[Tokens]:
        now = time.time()
        return Call(
            "POST",
            "/api/v1/auth/refresh",
            lambda data: Tokens.from_login(data, now=now),
            json={"refresh_token": refresh_token},
            auth=False,
        )

    def _url(self, path: str) -> str:
        return self.base_url + path

    def _request(self, call: Call[Any], headers: dict[str, str]) -> dict[str, Any]:
        return {
            "method": call.method,
            "url": self._url(call.path),
            "params": call.params,
            "json": call.json,
            "headers": {**call.headers, **headers},
        }

    def _connection_failed(self, exc: httpx.TransportError) -> ConnectionFailed:
        reason = str(exc) or type(exc).__name__
        return ConnectionFailed(f"cannot reach {self.base_url}: {reason}")

    @staticmethod
    def _answer(call: Call[T], response: httpx.Response) -> T:
        """The parsed answer of a successful response; the matching error otherwise."""
        if response.is_error:
            raise error_from_response(response)
        if response.status_code == 204 or not response.content:
            return call.parse(None)
        try:
            data = json.loads(response.content)
        except ValueError:
            raise ConnectionFailed(
                f"{call.method} {call.path}: the server's answer is not JSON"
                f" (is {response.request.url.host} an mstack server?)"
            ) from None
        return call.parse(data)

    def _ws_url(self, path: str) -> str:
        return "ws" + self.base_url.removeprefix("http") + path


__all__ = [
    "DEFAULT_URL",
    "AsyncCaller",
    "Base",
    "Call",
    "MemoryTokenStore",
    "SyncCaller",
    "TokenStore",
    "params",
    "segment",
]
