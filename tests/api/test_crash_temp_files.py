"""Temp files of uploads cut off by a crash: real ``mstack serve`` processes sharing one
data directory, one killed with SIGKILL mid-upload. The orphan goes when a server starts
again (and ``gc`` counts and removes it), whatever its age; a live upload's temp file,
in another process, is never touched."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import blake3
import httpx

from mcore.cid import RAW, cid_from_digest
from mcore.storage.local import HELD_SUFFIX
from tests.conftest import PASSWORD, free_port
from tests.procs import mstack_command, wait_until_up

CHUNK = 256 * 1024
PAUSE = 0.02  # between chunks: about 12 MiB/s, slow enough to be caught mid-upload


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MSTACK_")}
    env |= {
        "MSTACK_DATA_DIR": str(data_dir),
        "MSTACK_HOST": "127.0.0.1",
        "MSTACK_JOBS__EMBEDDED_WORKER": "false",
        "MSTACK_ALLOWED_CONTENT_TYPES": '["*/*"]',
        "MSTACK_ARGON2_MEMORY_COST": "64",
        "MSTACK_ARGON2_TIME_COST": "1",
        "MSTACK_ARGON2_PARALLELISM": "1",
        "MSTACK_LOG_LEVEL": "warning",
    }
    return env


def _few_open_files() -> None:
    """Start the server with a low soft limit of open files, as many systems do."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(256, hard), hard))


def open_files_limit(pid: int) -> tuple[str, str]:
    """The soft and hard limits of open files of a running process."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            soft, hard = line.split()[3:5]
            return soft, hard
    raise AssertionError("no open files limit")


class Server:
    """``mstack serve`` as a process of its own on a free loopback port."""

    def __init__(self, data_dir: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log.open("ab")
        self.proc = subprocess.Popen(
            mstack_command("serve", "--port", str(self.port)),
            env=_env(data_dir),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            preexec_fn=_few_open_files,
        )
        wait_until_up(self.url, self.proc, said=log.read_text)

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


class SlowUpload:
    """A raw upload streamed in small chunks on a thread until ``finish()``."""

    def __init__(self, server: Server, token: str, seed: bytes) -> None:
        self.done = threading.Event()
        self.sent = blake3.blake3()
        self.response: httpx.Response | None = None
        self.error: BaseException | None = None
        self.seed = seed
        self.thread = threading.Thread(target=self._run, args=(server.url, token), daemon=True)
        self.thread.start()

    def _body(self) -> Iterator[bytes]:
        n = 0
        while True:
            chunk = (self.seed + n.to_bytes(8, "big")) * (CHUNK // (len(self.seed) + 8))
            self.sent.update(chunk)
            yield chunk
            n += 1
            if self.done.is_set():
                return
            time.sleep(PAUSE)

    def _run(self, url: str, token: str) -> None:
        try:
            self.response = httpx.post(
                f"{url}/api/v1/files",
                params={"filename": "slow.bin"},
                content=self._body(),
                headers={"Authorization": f"Bearer {token}"},
                timeout=60,
            )
        except BaseException as exc:  # the server was killed under it
            self.error = exc

    def finish(self) -> httpx.Response:
        self.done.set()
        self.thread.join(timeout=60)
        assert self.response is not None, self.error
        return self.response


def held_temp_files(data_dir: Path) -> set[Path]:
    return {p for p in (data_dir / "tmp").iterdir() if p.name.endswith(HELD_SUFFIX)}


def wait_for_new_temp(data_dir: Path, known: set[Path]) -> Path:
    """The temp file a new upload writes, once bytes have reached it."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        fresh = [p for p in held_temp_files(data_dir) - known if p.stat().st_size > 0]
        if fresh:
            (path,) = fresh
            return path
        time.sleep(0.05)
    raise AssertionError("no temp file appeared")


def growing(path: Path) -> bool:
    before = path.stat().st_size
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        time.sleep(0.1)
        if path.stat().st_size > before:
            return True
    return False


def gc(data_dir: Path, *args: str) -> str:
    done = subprocess.run(
        mstack_command("gc", *args), env=_env(data_dir), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_killed_uploads_temp_file_goes_at_restart_and_a_live_one_stays(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    log = tmp_path / "servers.log"
    servers: list[Server] = []
    uploads: list[SlowUpload] = []
    try:
        first = Server(data_dir, log)
        servers.append(first)
        soft, hard = open_files_limit(first.proc.pid)  # every held temp file is open
        assert soft == hard, "mstack serve keeps the soft limit of open files it was given"
        registered = httpx.post(
            f"{first.url}/api/v1/auth/register",
            json={"email": "kim@example.org", "username": "kim", "password": PASSWORD},
        )
        assert registered.status_code == 201, registered.text
        signed_in = httpx.post(
            f"{first.url}/api/v1/auth/login", json={"username": "kim", "password": PASSWORD}
        )
        token = signed_in.json()["access_token"]

        doomed = SlowUpload(first, token, b"cut off by a crash")
        uploads.append(doomed)
        orphan = wait_for_new_temp(data_dir, set())

        # a second server starting on the same data directory leaves the live upload alone
        second = Server(data_dir, log)
        servers.append(second)
        assert orphan.exists()
        assert growing(orphan)
        assert "0 temp files" in gc(data_dir, "--dry-run")
        assert "1 temp files of uploads in progress" in gc(data_dir)
        assert orphan.exists()
        assert growing(orphan)

        survivor = SlowUpload(second, token, b"still arriving")
        uploads.append(survivor)
        live = wait_for_new_temp(data_dir, {orphan})

        first.kill()  # SIGKILL mid-upload: nothing of it runs any more
        doomed.thread.join(timeout=30)
        assert doomed.response is None
        assert doomed.error is not None
        size = orphan.stat().st_size
        assert size > 0
        counted = gc(data_dir, "--dry-run")
        assert f"would remove 0 blobs (0 bytes), 1 temp files ({size} bytes," in counted
        assert "1 left by uploads cut off by a crash" in counted
        assert orphan.exists()  # a dry run removes nothing

        restarted = Server(data_dir, log)  # its start-up removes the orphan, and only it
        servers.append(restarted)
        assert not orphan.exists()
        assert live.exists()
        assert growing(live)

        reply = survivor.finish()
        assert reply.status_code == 201, reply.text
        assert reply.json()[0]["cid"] == cid_from_digest(survivor.sent.digest(), RAW)
        assert not live.exists()  # placed under its CID
        assert held_temp_files(data_dir) == set()
    finally:
        for upload in uploads:
            upload.done.set()
        for server in servers:
            server.stop()
