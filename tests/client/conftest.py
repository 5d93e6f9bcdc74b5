"""Fixtures for the SDK and CLI tests: a real server on a loopback port, and a way to break
connections (the one thing outside our code that tests fake: the network)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from mcore.settings import Settings
from mstack_client import Client, Tokens
from tests.conftest import PASSWORD, LiveServer, free_port

USERNAME = "live-user"  # the account LiveServer.start() makes and signs in


@pytest.fixture(autouse=True)
def no_stored_login(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """``Client()`` reads MSTACK_URL, MSTACK_API_KEY and the CLI's stored login: never the
    ones of whoever runs the tests."""
    monkeypatch.delenv("MSTACK_URL", raising=False)
    monkeypatch.delenv("MSTACK_API_KEY", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("no-login")))


@pytest.fixture
def backend() -> str:
    """The client sees HTTP only: one database is enough here (the API tests run both)."""
    return "sqlite"


@pytest.fixture
def sdk(live_server: LiveServer) -> Iterator[Client]:
    """A client signed in with the live server's user's password."""
    with Client(live_server.url) as client:
        client.login(username=USERNAME, password=PASSWORD)
        yield client


def tokens(server: LiveServer) -> Tokens:
    """The live server user's session (no refresh token: for clients that do not log in)."""
    return Tokens(server.token)


@pytest.fixture
def config_home(tmp_path: Path) -> Path:
    path = tmp_path / "config"
    path.mkdir()
    return path


class Cli:
    """``mstack`` run in-process against one server, with its own config folder."""

    def __init__(self, server: str, config_home: Path) -> None:
        self.server = server
        self.config_home = config_home

    def __call__(self, *args: str, input: str | None = None, server: str | None = None) -> Result:
        from mstack_client.cli import main

        env = {
            "XDG_CONFIG_HOME": str(self.config_home),
            "MSTACK_URL": server or self.server,
            "MSTACK_API_KEY": None,
        }
        return CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)


def signed_in_cli(server: LiveServer, config_home: Path) -> Cli:
    """``mstack`` for ``server``, signed in with ``mstack login`` as its user."""
    run = Cli(server.url, config_home)
    result = run("login", "--username", USERNAME, "--password-stdin", input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    return run


@pytest.fixture
def cli(live_server: LiveServer, config_home: Path) -> Cli:
    """``mstack`` signed in (with ``mstack login``) as the live server's user."""
    return signed_in_cli(live_server, config_home)


@pytest.fixture
def anon_cli(live_server: LiveServer, config_home: Path) -> Cli:
    """``mstack`` for the live server, not signed in."""
    return Cli(live_server.url, config_home)


def make_tree(root: Path, files: dict[str, bytes]) -> dict[Path, bytes]:
    """Write files under ``root`` (names may contain folders); return path -> bytes."""
    out = {}
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        out[path] = data
    return out


def flip_byte(path: Path, offset: int) -> None:
    """Damage a stored blob the way a failing disk would (blobs are read-only: chmod first)."""
    path.chmod(0o644)
    with path.open("r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0xFF]))


class CuttingProxy:
    """A TCP proxy in front of the server that breaks one connection after ``cut`` bytes of
    response have passed through it (once), and records what each connection asked for."""

    def __init__(self, target_port: int, cut: int) -> None:
        self.target_port = target_port
        self.cut = cut
        self.cut_done = False
        self.requests: list[bytes] = []
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._closing = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> CuttingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._closing = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._up, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._down, args=(upstream, client), daemon=True).start()

    def _up(self, client: socket.socket, upstream: socket.socket) -> None:
        try:
            while data := client.recv(65536):
                with self._lock:
                    self.requests.append(data)
                upstream.sendall(data)
        except OSError:
            pass
        finally:
            _close(upstream)

    def _down(self, upstream: socket.socket, client: socket.socket) -> None:
        passed = 0
        try:
            while data := upstream.recv(65536):
                with self._lock:
                    cut_here = not self.cut_done and passed + len(data) > self.cut
                    if cut_here:
                        self.cut_done = True
                if cut_here:
                    client.sendall(data[: self.cut - passed])
                    client.shutdown(socket.SHUT_RDWR)
                    return
                passed += len(data)
                client.sendall(data)
        except OSError:
            pass
        finally:
            _close(client)
            _close(upstream)

    def range_requests(self) -> list[str]:
        text = b"".join(self.requests).decode("latin-1")
        return [line for line in text.split("\r\n") if line.lower().startswith("range:")]


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.close()


def settings_with(settings: Settings, **changes: Any) -> Settings:
    """The test's settings with some fields changed."""
    return Settings(**{**settings.model_dump(), **changes})


def no_partials(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.endswith(".mstack-part")]


__all__ = [
    "Cli",
    "CuttingProxy",
    "flip_byte",
    "make_tree",
    "no_partials",
    "settings_with",
    "signed_in_cli",
    "tokens",
]
