"""Scale-out for real: two `mstack serve` and two `mstack worker` processes, each with its
own data directory, on PostgreSQL + Redis + an S3 bucket (moto's server), driven only
over HTTP and WebSocket: nothing in this test reaches into a process."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from mcore.cid import file_cid
from mcore.settings import Settings
from tests import media
from tests.conftest import free_port
from tests.procs import spawn, wait_until_up
from tests.s3server import ACCESS_KEY, SECRET_KEY

pytestmark = pytest.mark.anyio


@pytest.fixture
def backend() -> str:
    return "postgresql"


class Fleet:
    """The processes of the test, started and stopped by PID."""

    def __init__(self, settings: Settings, tmp: Path) -> None:
        storage = settings.storage
        self.tmp = tmp
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MSTACK_")}
        self.env.update(
            MSTACK_CONFIG="",
            MSTACK_DATABASE_URL=settings.db_url,
            MSTACK_REDIS_URL="redis://127.0.0.1:6379/12",
            MSTACK_REDIS_PREFIX=f"mstack-fleet-{secrets.token_hex(4)}:",
            MSTACK_STORAGE__BACKEND="s3",
            MSTACK_STORAGE__S3_ENDPOINT=storage.s3_endpoint or "",
            MSTACK_STORAGE__S3_BUCKET=storage.s3_bucket or "",
            MSTACK_STORAGE__S3_PREFIX=storage.s3_prefix,
            AWS_ACCESS_KEY_ID=ACCESS_KEY,
            AWS_SECRET_ACCESS_KEY=SECRET_KEY,
            MSTACK_JOBS__EMBEDDED_WORKER="false",
            MSTACK_JOBS__LEASE="PT3S",
            MSTACK_JOBS__POLL_INTERVAL="PT1S",
            # a video's 720p rendition keeps its job running for seconds (previews alone
            # are done in a fifth of one, before a poll can see the job running)
            MSTACK_MEDIA__VIDEO_WEB_RENDITION="true",
            MSTACK_ARGON2_MEMORY_COST="64",
            MSTACK_ARGON2_TIME_COST="1",
            MSTACK_ARGON2_PARALLELISM="1",
        )
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.urls: dict[str, str] = {}

    def start(self, name: str, *args: str) -> None:
        data = self.tmp / name
        data.mkdir(exist_ok=True)
        log = open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        self.procs[name] = spawn(args, self.env | {"MSTACK_DATA_DIR": str(data)}, log)

    def serve(self, name: str) -> str:
        port = free_port()
        self.start(name, "serve", "--no-migrate", "--port", str(port))
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url, self.procs[name], path="/health/ready", said=lambda: self.log(name))
        self.urls[name] = url
        return url

    def work(self, name: str) -> None:
        """Start a worker and wait until it claims jobs (it says so on stderr)."""
        self.start(name, "worker")
        deadline = time.monotonic() + 60
        while "jobs at once" not in self.log(name):
            assert self.procs[name].poll() is None, self.log(name)
            assert time.monotonic() < deadline, self.log(name)
            time.sleep(0.1)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(name)
        proc.send_signal(sig)
        proc.wait(timeout=30)

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")[-3000:]

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.kill(name, signal.SIGTERM)


@pytest.fixture
def fleet(s3_settings: Settings, tmp_path: Path) -> Iterator[Fleet]:
    from mcore.migrate import upgrade

    upgrade(s3_settings)
    running = Fleet(s3_settings, tmp_path)
    try:
        yield running
    finally:
        running.stop_all()


async def _job(http: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    r = await http.get(f"/api/v1/jobs/{job_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


async def _until(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.2)


async def test_two_servers_two_workers_on_postgres_redis_and_s3(
    fleet: Fleet, tmp_path: Path
) -> None:
    a = await asyncio.to_thread(fleet.serve, "api-a")
    b = await asyncio.to_thread(fleet.serve, "api-b")
    await asyncio.to_thread(fleet.work, "worker-1")
    await asyncio.to_thread(fleet.work, "worker-2")
    account = {"email": "f@example.org", "username": "fleet", "password": "a fine password"}
    async with httpx.AsyncClient(base_url=a) as anon:
        assert (await anon.post("/api/v1/auth/register", json=account)).status_code == 201
        logins = [
            (
                await anon.post(
                    "/api/v1/auth/login",
                    json={"username": "fleet", "password": account["password"]},
                )
            ).json()
            for _ in range(2)
        ]
    token, other = logins[0]["access_token"], logins[1]["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    on_a = httpx.AsyncClient(base_url=a, headers=auth, timeout=30)
    on_b = httpx.AsyncClient(base_url=b, headers=auth, timeout=30)
    try:
        # live events on B for an upload through A, processed by whichever worker
        ws = await connect(b.replace("http://", "ws://") + "/api/v1/events")
        await ws.send(json.dumps({"type": "auth", "token": token}))
        assert json.loads(await ws.recv())["type"] == "ready"
        photo = media.jpeg(900, 600)
        r = await on_a.post("/api/v1/files", params={"filename": "p.jpg"}, content=photo)
        assert r.status_code == 201, r.text
        record = r.json()[0]
        seen: list[dict[str, Any]] = []
        while not seen or seen[-1]["type"] != "file.ready":
            seen.append(json.loads(await asyncio.wait_for(ws.recv(), 60)))
        await ws.close()
        types = [m["type"] for m in seen]
        assert types[0] == "file.stored"
        assert "job.progress" in types
        previews = (await on_b.get(f"/api/v1/files/{record['id']}/previews")).json()
        assert previews
        for preview in previews:
            got = await on_b.get(f"/api/v1/files/{record['id']}/previews/{preview['name']}")
            assert got.status_code == 200
            assert file_cid(got.content) == preview["cid"]
        original = await on_b.get(f"/api/v1/files/{record['id']}/content")
        assert original.content == photo

        # kill -9 the worker running a job: the other takes it over after the lease
        fleet.kill("worker-2", signal.SIGTERM)  # only worker-1 can claim the next job
        clip = media.make_video(
            tmp_path / "clip.mp4", seconds=20, size="640x360", tools=tmp_path
        ).read_bytes()
        r = await on_a.post("/api/v1/files", params={"filename": "clip.mp4"}, content=clip)
        assert r.status_code == 201, r.text
        video = r.json()[0]

        last: dict[str, Any] = {}

        async def running() -> bool:
            last.update(await _job(on_b, video["job_id"]))
            assert last["state"] in ("queued", "running"), last
            assert fleet.procs["worker-1"].poll() is None, fleet.log("worker-1")
            return last["state"] == "running"

        try:
            await _until(running, 90, "worker-1 did not start the video's job")
        except AssertionError as e:
            raise AssertionError(f"{e}\njob: {last}\nworker-1: {fleet.log('worker-1')}") from e
        fleet.kill("worker-1")  # SIGKILL, mid-job
        fleet.start("worker-2", "worker")

        async def finished() -> dict[str, Any] | None:
            job = await _job(on_a, video["job_id"])
            return job if job["state"] in ("succeeded", "failed") else None

        job = await _until(finished, 120, "the job was not taken over")
        assert job["state"] == "succeeded", job
        assert job["attempts"] >= 2  # the killed attempt, then the one that finished
        assert (await on_b.get(f"/api/v1/files/{video['id']}")).json()["status"] == "ready"

        # a session ended on A is refused on B at once (announced over Redis)
        as_other = {"Authorization": f"Bearer {other}"}
        assert (await on_b.get("/api/v1/auth/me", headers=as_other)).status_code == 200
        sessions = (await on_a.get("/api/v1/auth/sessions", headers=as_other)).json()
        (current,) = [s for s in sessions if s["current"]]
        ended = await on_a.delete(f"/api/v1/auth/sessions/{current['id']}")
        assert ended.status_code == 204

        async def refused() -> bool:
            return (await on_b.get("/api/v1/auth/me", headers=as_other)).status_code == 401

        started = time.monotonic()
        await _until(refused, 5, "server B still accepts a session ended on A")
        assert time.monotonic() - started < 2
        assert (await on_b.get("/api/v1/auth/me")).status_code == 200  # the other session lives
    finally:
        await on_a.aclose()
        await on_b.aclose()
