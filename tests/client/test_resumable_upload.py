"""The SDK and ``mstack upload`` send large files over tus (``/api/v1/uploads``) and resume
them: after Ctrl-C (the next call continues the same upload from the server's offset), and
after a dropped connection (within the same call)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import blake3
import pytest

from mcore.cid import RAW, cid_from_digest
from mcore.settings import Settings
from mstack_client import AsyncClient, Client
from mstack_client._transfer import ResumeState
from tests.client.conftest import USERNAME, CuttingProxy, signed_in_cli
from tests.conftest import PASSWORD, LiveServer
from tests.procs import mstack_command

MiB = 1024 * 1024


def make_file(path: Path, size: int) -> str:
    """A file of ``size`` bytes that does not repeat block to block; its CID."""
    seed = os.urandom(MiB)
    hasher = blake3.blake3()
    with path.open("wb") as f:
        for n in range(size // MiB):
            block = n.to_bytes(8, "big") + seed[8:]
            hasher.update(block)
            f.write(block)
    return cid_from_digest(hasher.digest(), RAW)


def uploads(settings: Settings) -> list[tuple[str, int, int, str | None]]:
    """The server's uploads: (id, offset, length, file id)."""
    with contextlib.closing(sqlite3.connect(settings.data_dir / "mstack.db")) as db:
        return db.execute('SELECT id, "offset", length, file_id FROM uploads').fetchall()


def settled(settings: Settings) -> list[tuple[str, int, int, str | None]]:
    """The uploads once the server has seen the client go and recorded what it kept."""
    deadline = time.monotonic() + 10
    last, since = uploads(settings), time.monotonic()
    while time.monotonic() - since < 0.5 or not any(u[1] for u in last):
        assert time.monotonic() < deadline, last
        time.sleep(0.02)
        if (now := uploads(settings)) != last:
            last, since = now, time.monotonic()
    return last


class Stop(Exception):
    pass


def test_a_large_file_goes_over_tus_and_resumes_after_an_interruption(
    live_server: LiveServer, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "big.bin"
    cid = make_file(path, 24 * MiB)
    state = ResumeState(tmp_path / "config" / "uploads.json")
    with Client(live_server.url, tus_threshold=8 * MiB, resume_state=state) as sdk:
        sdk.login(username=USERNAME, password=PASSWORD)

        def stop_midway(done: int, total: int | None) -> None:
            if done >= 10 * MiB:
                raise Stop  # as Ctrl-C would

        with pytest.raises(Stop):
            sdk.upload(path, progress=stop_midway)
        ((upload_id, offset, length, file_id),) = settled(settings)
        assert file_id is None
        assert length == 24 * MiB
        assert 0 < offset < length
        assert list(json.loads(state.path.read_text()).values()) == [f"/api/v1/uploads/{upload_id}"]

        seen: list[int] = []
        file = sdk.upload(path, progress=lambda done, total: seen.append(done))
    assert seen[0] == offset  # it went on from where the server had it
    assert seen[-1] == 24 * MiB
    assert (file.cid, file.size, file.filename) == (cid, 24 * MiB, "big.bin")
    assert uploads(settings) == [(upload_id, length, length, file.id)]  # the same upload
    assert json.loads(state.path.read_text()) == {}


class CuttingUploads(CuttingProxy):
    """Breaks one connection after ``cut`` bytes of request have passed (once)."""

    def __init__(self, target_port: int, cut: int) -> None:
        super().__init__(target_port, cut=1 << 62)
        self.upload_cut = cut
        self.upload_cut_done = False

    def _up(self, client: socket.socket, upstream: socket.socket) -> None:
        passed = 0
        try:
            while data := client.recv(65536):
                with self._lock:
                    cut_here = not self.upload_cut_done and passed + len(data) > self.upload_cut
                    if cut_here:
                        self.upload_cut_done = True
                if cut_here:
                    upstream.sendall(data[: self.upload_cut - passed])
                    for sock in (client, upstream):
                        with contextlib.suppress(OSError):
                            sock.shutdown(socket.SHUT_RDWR)
                    return
                passed += len(data)
                upstream.sendall(data)
        except OSError:
            pass


async def test_async_client_resumes_after_a_dropped_connection(
    live_server: LiveServer, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "big.bin"
    cid = make_file(path, 16 * MiB)
    state = ResumeState(tmp_path / "config" / "uploads.json")
    with CuttingUploads(live_server.port, cut=6 * MiB) as proxy:
        async with AsyncClient(proxy.url, tus_threshold=MiB, resume_state=state) as sdk:
            await sdk.login(username=USERNAME, password=PASSWORD)
            seen: list[int] = []
            file = await sdk.upload(path, progress=lambda done, total: seen.append(done))
        assert proxy.upload_cut_done
    assert (file.cid, file.size) == (cid, 16 * MiB)
    ((_, offset, length, file_id),) = uploads(settings)
    assert (offset, length, file_id) == (16 * MiB, 16 * MiB, file.id)
    # the second PATCH started past zero: some progress went back, not to the start
    drops = [i for i in range(1, len(seen)) if seen[i] < seen[i - 1]]
    assert len(drops) == 1
    assert seen[drops[0]] > 0
    assert json.loads(state.path.read_text()) == {}


def test_small_files_and_off_use_the_plain_upload(
    live_server: LiveServer, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "small.bin"
    cid = make_file(path, 2 * MiB)
    with Client(live_server.url, tus_threshold=None) as sdk:
        sdk.login(username=USERNAME, password=PASSWORD)
        assert sdk.upload(path).cid == cid
    with Client(live_server.url, tus_threshold=4 * MiB) as sdk:
        sdk.login(username=USERNAME, password=PASSWORD)
        assert sdk.upload(path, filename="again.bin").cid == cid
    assert uploads(settings) == []


def test_mstack_upload_continues_after_ctrl_c(
    live_server: LiveServer, settings: Settings, tmp_path: Path
) -> None:
    config_home = tmp_path / "config"
    config_home.mkdir()
    signed_in_cli(live_server, config_home)
    path = tmp_path / "video.bin"
    cid = make_file(path, 768 * MiB)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MSTACK_")}
    env |= {"XDG_CONFIG_HOME": str(config_home), "MSTACK_URL": live_server.url}
    command = mstack_command("upload", "--json", "--resumable-from", "64M", str(path))
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not [u for u in uploads(settings) if u[1] > 0]:
        assert first.poll() is None, first.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.005)
    first.send_signal(signal.SIGINT)
    _, err = first.communicate(timeout=60)
    assert first.returncode != 0, err
    ((upload_id, offset, length, file_id),) = settled(settings)
    assert file_id is None
    assert 0 < offset < length
    remembered = json.loads((config_home / "mstack" / "uploads.json").read_text())
    assert list(remembered.values()) == [f"/api/v1/uploads/{upload_id}"]

    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    (result,) = json.loads(done.stdout)
    assert result["status"] == "uploaded"
    assert result["file"]["cid"] == cid
    assert uploads(settings) == [(upload_id, length, length, result["file"]["id"])]
    assert json.loads((config_home / "mstack" / "uploads.json").read_text()) == {}
    path.unlink()
