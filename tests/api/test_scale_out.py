"""Scale-out: an API server without a worker, a separate ``mstack worker`` process, and
Redis carrying the wake-ups both ways (polls are set to a minute, so only Redis can make
this fast)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from datetime import timedelta

import httpx
import pytest
from websockets.asyncio.client import connect

from mcore.settings import Settings
from tests import media
from tests.conftest import LiveServer

pytestmark = pytest.mark.anyio

REDIS = "redis://127.0.0.1:6379/14"


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


async def test_separate_worker_and_server_wake_each_other_through_redis(
    settings: Settings,
) -> None:
    if not _redis_up():
        if os.environ.get("MSTACK_REQUIRE_TOOLS") == "1":
            pytest.fail("Redis is required (MSTACK_REQUIRE_TOOLS=1) but not reachable")
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    minute = timedelta(minutes=1)
    tuned = settings.model_copy(
        update={
            "redis_url": REDIS,
            "jobs": settings.jobs.model_copy(
                update={"embedded_worker": False, "poll_interval": minute}
            ),
            "events": settings.events.model_copy(update={"poll_interval": minute}),
        }
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MSTACK_")}
    env.update(
        MSTACK_DATA_DIR=str(settings.data_dir),
        MSTACK_DATABASE_URL=settings.db_url,
        MSTACK_REDIS_URL=REDIS,
        MSTACK_JOBS__POLL_INTERVAL="PT60S",
    )
    worker = subprocess.Popen(
        [sys.executable, "-c", "from mstack_client._launch import main; main()", "worker"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    server = LiveServer(tuned)
    await asyncio.to_thread(server.start)
    try:
        assert worker.stderr is not None
        banner = await asyncio.to_thread(worker.stderr.readline)
        assert "mstack worker" in banner  # subscribed to Redis and claiming
        await asyncio.sleep(0.5)  # its first look at the queue is over: now it waits
        assert server.server.config.app.state.worker is None
        ws = await connect(server.url.replace("http://", "ws://") + "/api/v1/events")
        await ws.send(json.dumps({"type": "auth", "token": server.token}))
        assert json.loads(await ws.recv())["type"] == "ready"
        async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as http:
            response = await http.post(
                "/api/v1/files", params={"filename": "x.jpg"}, content=media.jpeg(500, 400)
            )
            assert response.status_code == 201
        seen = []
        while not seen or seen[-1]["type"] != "file.ready":
            seen.append(json.loads(await asyncio.wait_for(ws.recv(), 20)))
        await ws.close()
        types = [m["type"] for m in seen]
        assert types[0] == "file.stored"
        assert "job.progress" in types  # published by the worker process
        assert types[-1] == "file.ready"
    finally:
        await asyncio.to_thread(server.stop)
        worker.terminate()
        worker.wait(timeout=20)
    assert worker.returncode == 0
