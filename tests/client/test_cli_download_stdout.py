"""``mstack download -o -`` writes nothing it has not verified: a broken proxy (a tiny
HTTP server here, sending other bytes than the CID names) never reaches standard output."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mstack_client import file_cid
from tests.client.conftest import Cli

MiB = 1024 * 1024


class BrokenProxy:
    """Answers ``GET /blobs/{cid}`` with whatever bytes the test sets, with or without a
    Content-Length (then the end of the body is the end of the connection)."""

    def __init__(self) -> None:
        self.body = b""
        self.length = True
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                if proxy.length:
                    self.send_header("Content-Length", str(len(proxy.body)))
                else:
                    self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(proxy.body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy() -> Iterator[BrokenProxy]:
    server = BrokenProxy()
    yield server
    server.close()


@pytest.fixture
def run(proxy: BrokenProxy, config_home: Path) -> Cli:
    return Cli(proxy.url, config_home)


def damaged(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0xFF])


@pytest.mark.parametrize("length", [True, False])
def test_a_corrupted_stream_is_never_written(proxy: BrokenProxy, run: Cli, length: bool) -> None:
    data = b"the real bytes " * 1000
    proxy.body, proxy.length = damaged(data), length
    result = run("download", file_cid(data), "-o", "-")
    assert result.exit_code == 1
    assert result.stdout_bytes == b""
    assert "hash to" in result.stderr


def test_verified_bytes_are_written(proxy: BrokenProxy, run: Cli) -> None:
    data = b"the real bytes " * 1000
    proxy.body = data
    result = run("download", file_cid(data), "-o", "-")
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes == data


@pytest.mark.parametrize("length", [True, False])
def test_a_file_over_the_buffer_limit_is_refused(
    proxy: BrokenProxy, run: Cli, length: bool
) -> None:
    data = bytes(range(256)) * (MiB // 256) + b"x"  # just over 1 MiB
    proxy.body, proxy.length = data, length
    result = run("download", file_cid(data), "-o", "-", "--buffer-limit", "1")
    assert result.exit_code == 1
    assert result.stdout_bytes == b""
    assert "--unverified" in result.stderr
    assert "nothing was written" in result.stderr

    bigger = run("download", file_cid(data), "-o", "-", "--buffer-limit", "2")
    assert bigger.exit_code == 0, bigger.stderr
    assert bigger.stdout_bytes == data


def test_unverified_streams_and_still_fails_on_a_mismatch(proxy: BrokenProxy, run: Cli) -> None:
    data = bytes(range(256)) * (MiB // 256) * 2
    proxy.body = damaged(data)
    result = run("download", file_cid(data), "-o", "-", "--buffer-limit", "1", "--unverified")
    assert result.exit_code == 1
    assert result.stdout_bytes == damaged(data)  # written as it came: the exit status says so
    assert "hash to" in result.stderr
