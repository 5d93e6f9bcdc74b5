"""A 1 GiB resumable upload by a third-party tus client (``tuspy``) to real ``mstack serve``
processes: the client killed mid-upload and run again, and the server killed with SIGKILL
mid-upload and started again; both finish with the file's right CID (``b3sum`` says
what it is), from where they were cut off, not from the start."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import blake3
import httpx
import pytest

from mcore.cid import RAW, cid_from_digest
from tests.conftest import PASSWORD, free_port, need_tool
from tests.procs import mstack_command, wait_until_up

GiB = 1024**3
BLOCK = 1024 * 1024
CHUNK = 64 * 1024 * 1024  # tuspy's PATCH size (it reads each into memory)
TUS = {"Tus-Resumable": "1.0.0"}

# The client, as a process of its own: tuspy's Uploader, remembering its upload URL in a
# file (its TinyDB storage) keyed by the file's fingerprint, as a resuming client does. It
# prints the URL, the offset of each PATCH it starts, and the final answer's headers.
CLIENT = r"""
import json, sys
from tusclient import client
from tusclient.storage.filestorage import FileStorage
from tusclient.uploader import Uploader

url, token, path, storage, chunk = sys.argv[1:6]

class Logged(Uploader):
    def _do_request(self):
        print(json.dumps({"patch": self.offset}), flush=True)
        super()._do_request()

tus = client.TusClient(url, headers={"Authorization": f"Bearer {token}"})
uploader = Logged(
    path,
    client=tus,
    chunk_size=int(chunk),
    metadata={"filename": "big.bin"},
    store_url=True,
    url_storage=FileStorage(storage),
    retries=60,
    retry_delay=0.5,
)
if not uploader.url:
    uploader.set_url(uploader.create_url())
    uploader.offset = 0
print(json.dumps({"url": uploader.url, "start": uploader.offset}), flush=True)
uploader.upload()
print(json.dumps({"done": dict(uploader.request.response_headers)}), flush=True)
"""


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MSTACK_")}
    return env | {
        "MSTACK_DATA_DIR": str(data_dir),
        "MSTACK_HOST": "127.0.0.1",
        "MSTACK_JOBS__EMBEDDED_WORKER": "false",
        "MSTACK_ALLOWED_CONTENT_TYPES": '["*/*"]',
        "MSTACK_ARGON2_MEMORY_COST": "64",
        "MSTACK_ARGON2_TIME_COST": "1",
        "MSTACK_ARGON2_PARALLELISM": "1",
        "MSTACK_LOG_LEVEL": "warning",
    }


class Server:
    """``mstack serve`` on a loopback port (the same port again after a restart)."""

    def __init__(self, data_dir: Path, log: Path, port: int) -> None:
        self.data_dir, self.log_path, self.port = data_dir, log, port
        self.url = f"http://127.0.0.1:{port}"
        self.log = log.open("ab")
        self.proc = subprocess.Popen(
            mstack_command("serve", "--port", str(port)),
            env=_env(data_dir),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_until_up(self.url, self.proc, said=log.read_text)

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        if not self.log.closed:
            self.log.close()


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """1 GiB of bytes that do not repeat block to block, and their CID (by b3sum); made
    once for this module's tests, removed after them."""
    path = tmp_path_factory.mktemp("tus") / "big.bin"
    seed = os.urandom(BLOCK)
    hasher = blake3.blake3()
    with open(path, "wb") as f:
        for n in range(GiB // BLOCK):
            block = n.to_bytes(8, "big") + seed[8:]
            hasher.update(block)
            f.write(block)
    digest = subprocess.run(
        [need_tool("b3sum"), "--no-names", str(path)], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert digest == hasher.hexdigest()
    yield path, cid_from_digest(bytes.fromhex(digest), RAW)
    path.unlink(missing_ok=True)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    data = tmp_path / "data"
    data.mkdir()
    running = Server(data, tmp_path / "server.log", free_port())
    yield running
    running.stop()


def _token(url: str) -> str:
    account = {"email": "big@example.org", "username": "big", "password": PASSWORD}
    assert httpx.post(f"{url}/api/v1/auth/register", json=account).status_code == 201
    r = httpx.post(f"{url}/api/v1/auth/login", json={"username": "big", "password": PASSWORD})
    return str(r.json()["access_token"])


class Client:
    """The tuspy client process; its printed lines as they come."""

    def __init__(self, url: str, token: str, path: Path, storage: Path, log: Path) -> None:
        self.lines: list[dict[str, Any]] = []
        self.log = log.open("ab")
        args = [f"{url}/api/v1/uploads", token, str(path), str(storage), str(CHUNK)]
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CLIENT, *args],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )

    def next_line(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, f"the tuspy client ended ({self.proc.wait()})"
        self.lines.append(json.loads(line))
        return self.lines[-1]

    def finish(self, timeout: float = 120) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while "done" not in self.lines[-1]:
            assert time.monotonic() < deadline, "the upload did not finish in time"
            self.next_line()
        assert self.proc.wait(timeout=30) == 0
        self.log.close()
        return dict(self.lines[-1]["done"])

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.log.close()


def _offset(url: str, location: str, token: str) -> int:
    r = httpx.head(location, headers={**TUS, "Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 200, r.text
    return int(r.headers["upload-offset"])


def _wait_for_offset(url: str, location: str, token: str, least: int) -> int:
    deadline = time.monotonic() + 60
    while (offset := _offset(url, location, token)) < least:
        assert time.monotonic() < deadline, f"the upload stayed at {offset} bytes"
        time.sleep(0.05)
    return offset


def _settled_offset(url: str, location: str, token: str) -> int:
    """The offset once the server has seen the client go and kept what it sent."""
    last, since = _offset(url, location, token), time.monotonic()
    while time.monotonic() - since < 0.5:
        time.sleep(0.05)
        now = _offset(url, location, token)
        if now != last:
            last, since = now, time.monotonic()
    return last


def _stored_offset(data_dir: Path, location: str) -> int:
    """The offset in the database of a server that is not running."""
    with contextlib.closing(sqlite3.connect(data_dir / "mstack.db")) as db:
        (offset,) = db.execute(
            'SELECT "offset" FROM uploads WHERE id = ?', (location.rsplit("/", 1)[1],)
        ).fetchone()
    return int(offset)


def _check_file(url: str, token: str, done: dict[str, str], cid: str) -> None:
    assert done["upload-cid"] == cid
    assert done["upload-offset"] == str(GiB)
    r = httpx.get(
        f"{url}/api/v1/files/{done['upload-file-id']}",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200
    record = r.json()
    assert (record["cid"], record["size"], record["filename"]) == (cid, GiB, "big.bin")


def test_tuspy_killed_mid_upload_resumes_where_it_was(
    server: Server, big_file: tuple[Path, str], tmp_path: Path
) -> None:
    path, cid = big_file
    token = _token(server.url)
    storage = tmp_path / "tus-urls.json"
    first = Client(server.url, token, path, storage, tmp_path / "client.log")
    location = first.next_line()["url"]
    assert first.lines[-1]["start"] == 0
    seen = _wait_for_offset(server.url, location, token, 5 * CHUNK)
    first.kill()
    stored = _settled_offset(server.url, location, token)
    assert seen <= stored < GiB

    again = Client(server.url, token, path, storage, tmp_path / "client.log")
    resumed = again.next_line()
    assert resumed == {"url": location, "start": stored}  # the remembered URL, at its offset
    done = again.finish()
    assert again.lines[1] == {"patch": stored}
    _check_file(server.url, token, done, cid)
    assert list((server.data_dir / "tmp" / "uploads").iterdir()) == []


def test_server_killed_mid_upload_resumes_at_the_stored_offset(
    server: Server, big_file: tuple[Path, str], tmp_path: Path
) -> None:
    path, cid = big_file
    token = _token(server.url)
    client = Client(server.url, token, path, tmp_path / "tus-urls.json", tmp_path / "client.log")
    location = client.next_line()["url"]
    seen = _wait_for_offset(server.url, location, token, 5 * CHUNK)
    server.kill()
    stored = _stored_offset(server.data_dir, location)
    assert seen <= stored < GiB
    restarted = Server(server.data_dir, tmp_path / "server.log", server.port)
    try:
        done = client.finish()
        patches = [line["patch"] for line in client.lines if "patch" in line]
        # the first PATCH after the restart starts at the offset the server had stored
        assert stored in patches
        assert patches == sorted(patches)
        assert patches.count(0) == 1
        _check_file(restarted.url, token, done, cid)
        assert list((server.data_dir / "tmp" / "uploads").iterdir()) == []
    finally:
        restarted.stop()
