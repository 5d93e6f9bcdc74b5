"""Where the CLI keeps credentials: ``$XDG_CONFIG_HOME/mstack/credentials.json``.

The file is readable by its owner alone (0600, in a 0700 folder), replaced atomically,
and changed under a lock file, because refresh tokens are single-use: two ``mstack``
processes refreshing the same session must not both spend the one token.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from mstack_client.models import Tokens

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

CREDENTIALS = "credentials.json"
T = TypeVar("T")


def config_dir() -> Path:
    """The user's mstack config folder (XDG base directory rules)."""
    base = os.environ.get("XDG_CONFIG_HOME") or ""
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return root / "mstack"


class Credentials:
    """The credentials file: per server a session's tokens or an API key; the default server."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or config_dir()
        self.path = self.folder / CREDENTIALS

    def read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {"servers": {}}
        except (OSError, ValueError) as exc:
            raise OSError(f"cannot read {self.path}: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("servers"), dict):
            return {"servers": {}}
        return data

    def write(self, data: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".credentials.", suffix=".tmp")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump(data, f, indent=2, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the lock file while reading and changing credentials."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.folder / ".credentials.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def server(self, url: str) -> dict[str, Any]:
        entry = self.read()["servers"].get(url)
        return entry if isinstance(entry, dict) else {}

    def default_server(self) -> str | None:
        value = self.read().get("default")
        return value if isinstance(value, str) else None

    def set_server(
        self, url: str, entry: dict[str, Any] | None, *, make_default: bool = False
    ) -> None:
        """Store (or with None, remove) what is kept for one server."""
        with self.lock():
            data = self.read()
            if entry is None:
                data["servers"].pop(url, None)
                if data.get("default") == url:
                    data.pop("default")
            else:
                data["servers"][url] = entry
                if make_default:
                    data["default"] = url
            self.write(data)


class FileTokenStore:
    """A ``TokenStore`` over one server's entry in the credentials file."""

    def __init__(self, credentials: Credentials, server: str) -> None:
        self.credentials = credentials
        self.url = server
        self._local = threading.local()  # whether this thread holds the lock already

    def load(self) -> Tokens | None:
        entry = self.credentials.server(self.url)
        tokens = entry.get("tokens")
        return Tokens.from_json(tokens) if isinstance(tokens, dict) else None

    def save(self, tokens: Tokens | None) -> None:
        def change() -> None:
            data = self.credentials.read()
            entry = data["servers"].get(self.url)
            if tokens is None:
                if isinstance(entry, dict):
                    entry.pop("tokens", None)
                    if not entry:
                        data["servers"].pop(self.url)
            else:
                data["servers"][self.url] = {"tokens": tokens.to_json()}
            self.credentials.write(data)

        if getattr(self._local, "held", False):
            change()
        else:
            with self.credentials.lock():
                change()

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        with self.credentials.lock():
            self._local.held = True
            try:
                yield
            finally:
                self._local.held = False


URL_ENV = "MSTACK_URL"
API_KEY_ENV = "MSTACK_API_KEY"


def normalize_url(url: str) -> str:
    """One spelling per server, so its credentials are found again."""
    url = url.strip().rstrip("/")
    if "://" not in url:
        url = "http://" + url
    scheme, rest = url.split("://", 1)
    host, _, path = rest.partition("/")
    return f"{scheme.lower()}://{host.lower()}" + (f"/{path}" if path else "")


@dataclass(frozen=True)
class Login:
    """The server and credentials a client uses when it is not told: see ``find_login``."""

    url: str | None
    api_key: str | None = None
    token_store: FileTokenStore | None = None


def find_login(
    url: str | None = None, credentials: Credentials | None = None, *, store: bool = False
) -> Login:
    """What ``mstack`` and ``Client()`` use when given nothing, in this order:

    the server: ``url`` (``--server``), else ``MSTACK_URL``, else the one last signed in
    to with ``mstack login`` (None: the caller's default); the credentials: ``MSTACK_API_KEY``,
    else the API key stored for that server, else its stored session (a ``FileTokenStore``,
    which refreshes it in place; with ``store`` one even when none is stored yet, so that a
    login is kept, and a credentials file that cannot be read raises ``OSError``).
    """
    credentials = credentials or Credentials()

    def _quiet(read: Callable[[], T]) -> T | None:
        if store:
            return read()
        try:  # to the SDK, a credentials file it cannot read is no credentials
            return read()
        except OSError:
            return None

    server = url or os.environ.get(URL_ENV) or _quiet(credentials.default_server)
    key = os.environ.get(API_KEY_ENV)
    if server is None:
        return Login(None, key or None)
    entry = _quiet(lambda: credentials.server(normalize_url(server))) or {}
    key = key or (entry.get("api_key") if isinstance(entry.get("api_key"), str) else None)
    if key:
        return Login(server, key)
    if store or isinstance(entry.get("tokens"), dict):
        return Login(server, token_store=FileTokenStore(credentials, normalize_url(server)))
    return Login(server)
