"""Slow and oversized clients on a real loopback socket: a trickled head, a stalled body
and a huge head are cut off by the server, with nothing left behind."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from mcore.settings import Settings
from tests.conftest import LiveServer, blob_files, temp_files

# The HTTP server, not the database, is under test.
pytestmark = pytest.mark.parametrize("backend", ["sqlite"])
LIMIT = 1.0  # seconds, both for heads and for body chunks
GIVE_UP = 15.0  # a socket not closed by then never will be (without the limits: never)


@pytest.fixture
def server(settings: Settings) -> Iterator[LiveServer]:
    live = LiveServer(
        settings.model_copy(
            update={
                "request_header_timeout": timedelta(seconds=LIMIT),
                "request_body_timeout": timedelta(seconds=LIMIT),
                "max_header_size": 16 * 1024,
            }
        )
    )
    live.start()
    yield live
    live.stop()


def _open(server: LiveServer) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.settimeout(0.2)
    return sock


def _trickle_until_closed(
    sock: socket.socket, drip: bytes, start: float | None = None
) -> tuple[bytes, float]:
    """Send ``drip`` every 0.2 s until the server closes; what it said, and how long after
    ``start`` (by default: now)."""
    start = time.monotonic() if start is None else start
    answer = b""
    while time.monotonic() - start < GIVE_UP:
        try:
            if drip:
                sock.sendall(drip)
            data = sock.recv(65536)
        except TimeoutError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            return answer, time.monotonic() - start
        if not data:
            return answer, time.monotonic() - start
        answer += data
    raise AssertionError(f"the server kept the socket open for {GIVE_UP} s; it said {answer!r}")


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def _body(answer: bytes) -> dict:
    return dict(json.loads(answer.split(b"\r\n\r\n", 1)[1]))


def test_a_trickled_head_is_cut_off(server: LiveServer) -> None:
    connected = time.monotonic()
    sock = _open(server)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
    answer, after = _trickle_until_closed(sock, b"X", connected)  # a header, byte by byte
    sock.close()
    assert _status(answer) == 408
    assert b"application/problem+json" in answer
    assert "did not arrive within 1 seconds" in _body(answer)["detail"]
    assert LIMIT <= after < GIVE_UP
    assert httpx.get(f"{server.url}/health").status_code == 200  # the server serves on


def test_a_silent_connection_is_cut_off(server: LiveServer) -> None:
    sock = _open(server)
    answer, after = _trickle_until_closed(sock, b"")
    sock.close()
    assert _status(answer) == 408
    assert after < GIVE_UP


def test_a_trickled_head_after_a_kept_alive_request_is_cut_off(server: LiveServer) -> None:
    sock = _open(server)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    first = b""
    while b"\r\n\r\n" not in first or not first.endswith(b"}"):
        try:
            first += sock.recv(65536)
        except TimeoutError:
            continue
    assert _status(first) == 200
    sock.sendall(b"GET /health HTTP/1.1\r\n")  # the next request starts, then trickles
    answer, _ = _trickle_until_closed(sock, b"X")
    sock.close()
    assert _status(answer) == 408


def test_a_huge_head_is_refused(server: LiveServer) -> None:
    sock = _open(server)
    sock.settimeout(GIVE_UP)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ")
    answer = b""
    try:
        for _ in range(64):  # up to 4 MiB of one header, 64 KiB at a time
            sock.sendall(b"a" * 65536)
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        while chunk := sock.recv(65536):
            answer += chunk
    except ConnectionResetError:
        pass
    sock.close()
    assert _status(answer) == 431
    assert "larger than 16384 bytes" in _body(answer)["detail"]


def _upload_head(server: LiveServer, length: int) -> bytes:
    return (
        f"POST /api/v1/files?filename=slow.bin HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {server.token}\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def test_a_stalled_upload_is_aborted_and_keeps_nothing(server: LiveServer) -> None:
    connected = time.monotonic()
    sock = _open(server)
    sock.sendall(_upload_head(server, 10 * 1024 * 1024) + b"x" * 256 * 1024)
    answer, after = _trickle_until_closed(sock, b"", connected)  # then nothing more
    sock.close()
    assert _status(answer) == 408
    assert b"connection: close" in answer.lower()
    assert "nothing of this request was kept" in _body(answer)["detail"]
    assert LIMIT <= after < GIVE_UP
    assert temp_files(server.settings) == []
    assert blob_files(server.settings) == []
    files = httpx.get(f"{server.url}/api/v1/files", headers=server.headers).json()
    assert files["items"] == []


def test_a_trickled_json_body_is_cut_off(server: LiveServer) -> None:
    sock = _open(server)
    sock.sendall(
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100\r\n\r\n{"username": '
    )
    answer, _ = _trickle_until_closed(sock, b"")
    sock.close()
    assert _status(answer) == 408


def test_a_slow_but_steady_upload_is_kept(server: LiveServer) -> None:
    """The limit is per chunk, not on the whole body: a slow line that keeps sending wins."""
    chunks = [bytes([i]) * 4096 for i in range(6)]

    def body() -> Iterator[bytes]:
        for chunk in chunks:
            time.sleep(LIMIT / 2)
            yield chunk

    reply = httpx.post(
        f"{server.url}/api/v1/files?filename=steady.bin",
        content=body(),
        headers=server.headers,
        timeout=GIVE_UP,
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()[0]["size"] == sum(len(c) for c in chunks)
    assert temp_files(server.settings) == []


def test_past_max_concurrency_the_answer_is_problem_details(settings: Settings) -> None:
    live = LiveServer(settings.model_copy(update={"max_concurrency": 2}))
    live.start()
    held = [_open(live), _open(live)]  # two open connections fill the limit
    try:
        time.sleep(0.2)
        with socket.create_connection(("127.0.0.1", live.port)) as sock:
            sock.settimeout(5)
            sock.sendall(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
            answer, _ = _trickle_until_closed(sock, b"")
        assert _status(answer) == 503
        head = answer.split(b"\r\n\r\n", 1)[0].lower()
        assert b"content-type: application/problem+json" in head
        assert b"retry-after: 1" in head
        problem = _body(answer)
        assert problem["status"] == 503
        assert "max_concurrency" in problem["detail"]
    finally:
        for sock in held:
            sock.close()
        live.stop()
