"""The credentials file: the owner's alone, replaced atomically, changed under a lock."""

from __future__ import annotations

import stat
import threading
import time
from pathlib import Path

import pytest

from mstack_client.cli._context import normalize_url
from mstack_client.config import Credentials, FileTokenStore, config_dir
from mstack_client.models import Tokens


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_folder_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert config_dir() == tmp_path / "mstack"
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/ignored")  # the spec says: ignore it
    assert config_dir() == Path.home() / ".config" / "mstack"


def test_tokens_are_stored_readable_by_the_owner_alone(tmp_path: Path) -> None:
    creds = Credentials(tmp_path / "mstack")
    store = FileTokenStore(creds, "http://a.test")
    store.save(Tokens("access", "refresh", 123.0))
    assert mode(creds.folder) == 0o700
    assert mode(creds.path) == 0o600
    assert store.load() == Tokens("access", "refresh", 123.0)
    assert "access" not in repr(store.load())  # tokens never print themselves
    other = FileTokenStore(creds, "http://b.test")
    assert other.load() is None
    store.save(None)
    assert store.load() is None
    assert creds.read()["servers"] == {}
    assert [p.name for p in creds.folder.iterdir() if p.name.endswith(".tmp")] == []


def test_default_server_and_api_keys(tmp_path: Path) -> None:
    creds = Credentials(tmp_path / "mstack")
    creds.set_server("http://a.test", {"api_key": "k"}, make_default=True)
    assert creds.default_server() == "http://a.test"
    assert creds.server("http://a.test") == {"api_key": "k"}
    creds.set_server("http://a.test", None)
    assert creds.default_server() is None
    assert creds.server("http://a.test") == {}


def test_a_damaged_file_is_a_clear_error(tmp_path: Path) -> None:
    creds = Credentials(tmp_path / "mstack")
    creds.folder.mkdir()
    creds.path.write_text("{not json")
    with pytest.raises(OSError, match="cannot read"):
        creds.read()


def test_the_lock_serializes_processes_and_threads(tmp_path: Path) -> None:
    creds = Credentials(tmp_path / "mstack")
    order: list[str] = []

    def hold() -> None:
        with creds.lock():
            order.append("second")

    with creds.lock():
        other = threading.Thread(target=hold)
        other.start()
        time.sleep(0.1)  # the other thread must still be waiting for the lock
        order.append("first")
    other.join()
    assert order == ["first", "second"]


def test_saving_inside_the_stores_own_lock_does_not_deadlock(tmp_path: Path) -> None:
    store = FileTokenStore(Credentials(tmp_path / "mstack"), "http://a.test")
    with store.lock():
        store.save(Tokens("a"))
    assert store.load() == Tokens("a")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://Example.ORG:8000/", "http://example.org:8000"),
        ("example.org", "http://example.org"),
        ("HTTPS://h/prefix/", "https://h/prefix"),
    ],
)
def test_server_addresses_are_normalized(given: str, expected: str) -> None:
    assert normalize_url(given) == expected
