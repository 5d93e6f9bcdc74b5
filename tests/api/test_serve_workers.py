"""`mstack serve --workers 2`: two API processes on one port, on the embedded SQLite
default, each a whole server (uploads through one are read through the other)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx

from mcore.cid import file_cid
from tests.conftest import free_port
from tests.procs import spawn, wait_until_up


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        cmdline = (entry / "cmdline").read_bytes()
        if parent == pid and b"multiprocessing" in cmdline and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


def test_two_api_processes_share_the_port_and_the_data(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "MSTACK_DATA_DIR": str(tmp_path / "data"),
        "MSTACK_CONFIG": "",
        "MSTACK_JOBS__EMBEDDED_WORKER": "false",
    }
    log = tmp_path / "serve.log"
    proc = spawn(["serve", "--port", str(port), "--workers", "2"], env, log.open("wb"))
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url, proc, said=log.read_text, also=lambda: len(children(proc.pid)) >= 2)
        account = {"email": "w@example.org", "username": "two", "password": "a fine password"}
        assert httpx.post(f"{url}/api/v1/auth/register", json=account).status_code == 201
        login = httpx.post(
            f"{url}/api/v1/auth/login", json={"username": "two", "password": "a fine password"}
        ).json()
        headers = {"Authorization": f"Bearer {login['access_token']}"}
        ids = []
        for i in range(6):
            r = httpx.post(
                f"{url}/api/v1/files",
                params={"filename": f"{i}.txt"},
                content=b"file %d" % i,
                headers=headers,
            )
            assert r.status_code == 201, r.text
            ids.append(r.json()[0]["id"])
        # each request is a new connection: the kernel spreads them over both processes
        for i, file_id in enumerate(ids * 3):
            r = httpx.get(f"{url}/api/v1/files/{file_id}/content", headers=headers)
            assert r.status_code == 200
            assert file_cid(r.content) == file_cid(b"file %d" % (i % 6))
        assert len(children(proc.pid)) == 2
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
