"""Messages across two `mstack serve` processes on one PostgreSQL database, whose only way
to wake each other is Redis (their polls are a minute apart)."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
from pathlib import Path

import httpx
import pytest

from mcore.settings import Settings
from tests.api.test_conversation_events import Person, post, socket_of, until
from tests.conftest import PASSWORD, create_account, free_port
from tests.procs import spawn, wait_until_up

pytestmark = pytest.mark.anyio

REDIS = "redis://127.0.0.1:6379/13"


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def backend() -> str:
    return "postgresql"  # two processes share one database


async def test_delivery_across_two_server_processes_through_redis(
    settings: Settings, tmp_path: Path
) -> None:
    if not _redis_up():
        pytest.fail("Redis is required on 127.0.0.1:6379 for this test")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MSTACK_")}
    env.update(
        MSTACK_CONFIG="",
        MSTACK_DATABASE_URL=settings.db_url,
        MSTACK_REDIS_URL=REDIS,
        MSTACK_REDIS_PREFIX=f"mstack-chat-{secrets.token_hex(4)}:",
        MSTACK_EVENTS__POLL_INTERVAL="PT60S",  # only Redis can make delivery fast
        MSTACK_JOBS__EMBEDDED_WORKER="false",
        MSTACK_ARGON2_MEMORY_COST="64",
        MSTACK_ARGON2_TIME_COST="1",
        MSTACK_ARGON2_PARALLELISM="1",
    )
    from api.app import create_app

    app = create_app(settings)
    async with app.lifespan():
        ann_user = await create_account(app, role="user", username="ann")
        bob_user = await create_account(app, role="user", username="bob")
    procs: list[subprocess.Popen[bytes]] = []
    urls = []
    try:
        for name in ("one", "two"):
            data = tmp_path / name
            data.mkdir()
            log = open(tmp_path / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
            port = free_port()
            proc = spawn(
                ("serve", "--no-migrate", "--port", str(port)),
                env | {"MSTACK_DATA_DIR": str(data)},
                log,
            )
            procs.append(proc)
            url = f"http://127.0.0.1:{port}"
            wait_until_up(url, proc, path="/health/ready")
            urls.append(url)
        people = []
        for user, url in ((ann_user, urls[0]), (bob_user, urls[1])):
            reply = httpx.post(
                f"{url}/api/v1/auth/login", json={"username": user.username, "password": PASSWORD}
            )
            assert reply.status_code == 200, reply.text
            people.append(Person(user.id, reply.json()["access_token"]))
        ann, bob = people
        bob_ws, _ = await socket_of(urls[1], bob)  # bob listens on the second process
        cid = (await post(urls[0], ann, "/api/v1/conversations", {"members": [bob.user_id]}))["id"]
        assert (await until(bob_ws, "conversation.created"))[-1]["data"]["conversation_id"] == cid
        for i in range(3):
            sent = await post(
                urls[0], ann, f"/api/v1/conversations/{cid}/messages", {"text": f"m{i}"}
            )
            event = (await until(bob_ws, "message.created"))[-1]
            assert event["data"]["message"] == sent
        await bob_ws.close()
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=20)
