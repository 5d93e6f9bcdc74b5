"""``WS /api/v1/events`` over real HTTP (uvicorn on a loopback port)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from mcore.db import Database
from mcore.events import EventType, publish
from mcore.settings import Settings
from tests import media
from tests.apphelpers import fast
from tests.conftest import LiveServer

pytestmark = pytest.mark.anyio


def _tuned(settings: Settings) -> Settings:
    tuned = fast(settings)
    tuned.jobs.embedded_worker = True
    tuned.events = tuned.events.model_copy(
        update={
            "auth_timeout": timedelta(milliseconds=300),
            "liveness_check": timedelta(milliseconds=200),
            "poll_interval": timedelta(seconds=30),  # wake-ups, not polls, must deliver
        }
    )
    return tuned


@pytest.fixture
def server(settings: Settings) -> Iterator[LiveServer]:
    live = LiveServer(_tuned(settings))
    live.start()
    yield live
    live.stop()


def _ws(server: LiveServer) -> str:
    return server.url.replace("http://", "ws://") + "/api/v1/events"


async def _recv(ws: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(ws.recv(), timeout)))


async def _signed_in(server: LiveServer, after: int | None = None) -> ClientConnection:
    ws = await connect(_ws(server))
    first: dict[str, Any] = {"type": "auth", "token": server.token}
    if after is not None:
        first["after"] = after
    await ws.send(json.dumps(first))
    ready = await _recv(ws)
    assert ready["type"] == "ready"
    return ws


async def _until(ws: ClientConnection, kind: str) -> list[dict[str, Any]]:
    seen = []
    while True:
        message = await _recv(ws)
        seen.append(message)
        if message["type"] == kind:
            return seen


async def _upload(server: LiveServer, data: bytes, name: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as http:
        response = await http.post("/api/v1/files", params={"filename": name}, content=data)
        assert response.status_code == 201
        return dict(response.json()[0])


@pytest.fixture
async def db_for(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings)
    yield database
    await database.dispose()


async def test_live_progress_of_an_upload(server: LiveServer) -> None:
    ws = await _signed_in(server)
    try:
        record = await _upload(server, media.jpeg(400, 300), "live.jpg")
        seen = await _until(ws, "file.ready")
    finally:
        await ws.close()
    types = [m["type"] for m in seen]
    assert types[0] == "file.stored"
    assert "job.progress" in types
    assert types[-1] == "file.ready"
    assert [m["seq"] for m in seen] == sorted(m["seq"] for m in seen)
    assert seen[0]["data"]["file_id"] == record["id"]
    assert seen[0]["data"]["job_id"] == record["job_id"]
    assert seen[-1]["data"]["previews"] == ["preview-1024", "preview-256"]


async def test_reconnecting_with_the_last_seq_replays_what_was_missed(
    server: LiveServer,
) -> None:
    ws = await _signed_in(server)
    last = None
    try:
        await _upload(server, media.jpeg(100, 100), "one.jpg")
        last = (await _until(ws, "file.ready"))[-1]["seq"]
    finally:
        await ws.close()
    record = await _upload(server, media.jpeg(120, 100), "two.jpg")  # nobody is listening
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as http:
        for _ in range(200):
            job = (await http.get(f"/api/v1/jobs/{record['job_id']}")).json()
            if job["state"] == "succeeded":
                break
            await asyncio.sleep(0.05)
    again = await connect(_ws(server))
    try:
        await again.send(json.dumps({"type": "auth", "token": server.token, "after": last}))
        missed = await _until(again, "ready")
    finally:
        await again.close()
    assert missed[0]["type"] == "file.stored"
    assert missed[0]["data"]["file_id"] == record["id"]
    assert missed[-2]["type"] == "file.ready"
    assert all(m["seq"] > last for m in missed[:-1])
    assert missed[-1]["seq"] == missed[-2]["seq"]


async def test_only_the_users_own_events_arrive(server: LiveServer, db_for: Database) -> None:
    ws = await _signed_in(server)
    try:
        async with db_for.session(write=True) as session:
            await publish(
                session,
                user_id="someone-else",
                type=EventType.file_stored,
                payload={"secret": True},
            )
        async with db_for.session(write=True) as session:
            await publish(
                session, user_id=server.user_id, type=EventType.file_stored, payload={"mine": True}
            )
        message = await _recv(ws)
        assert message["data"] == {"mine": True}
    finally:
        await ws.close()


async def _socket_of_key(
    server: LiveServer, *scopes: str
) -> tuple[ClientConnection, list[dict[str, Any]]]:
    """A socket signed in with a new key of these scopes, and what it replayed from 0."""
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as http:
        made = await http.post("/api/v1/auth/keys", json={"name": "w", "scopes": list(scopes)})
        assert made.status_code == 201, made.text
    ws = await connect(_ws(server))
    await ws.send(json.dumps({"type": "auth", "token": made.json()["key"], "after": 0}))
    replayed = await _until(ws, "ready")
    return ws, replayed[:-1]


async def test_a_key_hears_only_the_events_its_scopes_may_read(
    server: LiveServer, db_for: Database
) -> None:
    """Events go to the account, but each socket hears what its credential may read: a key
    without ``files:read`` learns no file's name or CID, live or replayed; the account's
    own alerts reach it."""
    kinds = (EventType.file_stored, EventType.sign_in_failures, EventType.job_failed)
    async with db_for.session(write=True) as session:
        for kind in kinds:  # before the sockets open: replayed
            await publish(session, user_id=server.user_id, type=kind, payload={"n": 1})
    blind, blind_replayed = await _socket_of_key(
        server, "records:read", "records:write", "files:write"
    )
    reader, reader_replayed = await _socket_of_key(server, "files:read")
    try:
        async with db_for.session(write=True) as session:
            for kind in kinds:  # while they are open: followed
                await publish(session, user_id=server.user_id, type=kind, payload={"n": 2})
        heard = reader_replayed + [await _recv(reader) for _ in kinds]
        assert [(m["type"], m["data"]["n"]) for m in heard] == [
            (k.value, n) for n in (1, 2) for k in kinds
        ]
        got = [*blind_replayed, await _recv(blind)]
        assert [(m["type"], m["data"]["n"]) for m in got] == [
            ("account.sign_in_failures", 1),
            ("account.sign_in_failures", 2),
        ]
        with pytest.raises(TimeoutError):
            await _recv(blind, timeout=0.5)
    finally:
        await blind.close()
        await reader.close()


@pytest.mark.parametrize(
    "first",
    [
        None,  # says nothing: closed when the time is up
        "not json",
        json.dumps({"type": "hello"}),
        json.dumps({"type": "auth", "token": ""}),
        json.dumps({"type": "auth", "token": "not-a-token-this-server-made"}),
        json.dumps({"type": "auth", "token": "t", "after": -1}),
    ],
)
async def test_authentication_comes_first_or_the_socket_closes(
    server: LiveServer, first: str | None
) -> None:
    ws = await connect(_ws(server))
    if first is not None:
        await ws.send(first)
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401


@pytest.mark.parametrize("after", [2**63, 10**30, -1, 1.5, 1e300, True, "5"])
async def test_after_out_of_range_closes_the_socket_saying_so(
    server: LiveServer, after: object
) -> None:
    ws = await connect(_ws(server))
    await ws.send(json.dumps({"type": "auth", "token": server.token, "after": after}))
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401
    assert "after must be a sequence number" in closed.value.rcvd.reason


async def test_a_revoked_session_closes_the_socket(server: LiveServer) -> None:
    ws = await _signed_in(server)
    await asyncio.sleep(0.3)
    assert ws.close_code is None
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as http:
        assert (await http.post("/api/v1/auth/logout")).status_code == 204
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403


async def test_many_sockets_cost_one_read_per_wake_up(server: LiveServer, db_for: Database) -> None:
    sockets = [await _signed_in(server) for _ in range(25)]
    hub = server.server.config.app.state.event_hub
    try:
        await asyncio.sleep(0.3)
        before = hub.queries
        async with db_for.session(write=True) as session:
            await publish(
                session, user_id=server.user_id, type=EventType.job_progress, payload={"n": 1}
            )
        messages = await asyncio.gather(*(_recv(ws) for ws in sockets))
        assert {m["data"]["n"] for m in messages} == {1}
        assert len({m["seq"] for m in messages}) == 1
        assert hub.queries - before <= 2  # not one per socket
    finally:
        for ws in sockets:
            await ws.close()


async def test_a_client_behind_the_kept_history_is_told_to_reset(
    server: LiveServer, db_for: Database
) -> None:
    from datetime import UTC, datetime

    from mcore.events import prune_events

    for n in range(3):
        async with db_for.session(write=True) as session:
            await publish(
                session, user_id=server.user_id, type=EventType.job_progress, payload={"n": n}
            )
    async with db_for.session(write=True) as session:
        await prune_events(session, before=datetime.now(UTC) + timedelta(seconds=1))
    ws = await connect(_ws(server))
    try:
        await ws.send(json.dumps({"type": "auth", "token": server.token, "after": 0}))
        assert (await _recv(ws))["type"] == "reset"
        assert (await _recv(ws))["type"] == "ready"
    finally:
        await ws.close()


async def test_guessing_at_the_account_reaches_its_owners_socket(server: LiveServer) -> None:
    ws = await _signed_in(server)
    try:
        async with httpx.AsyncClient(base_url=server.url) as http:
            for i in range(10):  # from ten addresses, behind the trusted proxy on 127.0.0.1
                reply = await http.post(
                    "/api/v1/auth/login",
                    json={"username": "live-user", "password": "a wrong guess"},
                    headers={"X-Forwarded-For": f"198.51.100.{i + 1}"},
                )
                assert reply.status_code == 401
        seen = await _until(ws, "account.sign_in_failures")
        alert = seen[-1]
        assert alert["data"] == {"failures": 10, "window_seconds": 900, "address": "198.51.100.10"}
    finally:
        await ws.close()
