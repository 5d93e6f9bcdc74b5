"""Messages on the events socket over real HTTP and WebSocket: three accounts, one of them
offline who catches up by replay; edits, deletes and membership changes; and delivery
across two `mstack serve` processes (test_conversation_scale_out)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from mcore.settings import Settings
from tests.apphelpers import fast
from tests.conftest import LiveServer

pytestmark = pytest.mark.anyio


@dataclass
class Person:
    user_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def person_on(live: LiveServer, username: str) -> Person:
    await asyncio.to_thread(live.sign_in, "user", username)
    return Person(live.user_id, live.token)


@pytest.fixture
def live(settings: Settings) -> Iterator[LiveServer]:
    tuned = fast(settings)
    # wake-ups, not polls, must deliver
    tuned.events = tuned.events.model_copy(update={"poll_interval": timedelta(seconds=30)})
    server = LiveServer(tuned)
    server.start()
    yield server
    server.stop()


async def _recv(ws: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(ws.recv(), timeout)))


async def socket_of(
    url: str, person: Person, after: int | None = None
) -> tuple[ClientConnection, list[dict[str, Any]]]:
    """A signed-in events socket, and what it said up to ``ready`` (the replay, if any)."""
    ws = await connect(url.replace("http://", "ws://") + "/api/v1/events")
    first: dict[str, Any] = {"type": "auth", "token": person.token}
    if after is not None:
        first["after"] = after
    await ws.send(json.dumps(first))
    return ws, await until(ws, "ready")


async def until(ws: ClientConnection, kind: str) -> list[dict[str, Any]]:
    seen = []
    while True:
        message = await _recv(ws)
        seen.append(message)
        if message["type"] == kind:
            return seen


async def post(url: str, person: Person, path: str, body: Any) -> Any:
    async with httpx.AsyncClient(base_url=url, headers=person.headers) as http:
        reply = await http.post(path, json=body)
    assert reply.status_code in (200, 201), reply.text
    return reply.json()


async def test_three_accounts_and_one_catches_up_by_replay(live: LiveServer) -> None:
    ann, bob, cat = [await person_on(live, name) for name in ("ann", "bob", "cat")]
    ann_ws, _ = await socket_of(live.url, ann)
    bob_ws, _ = await socket_of(live.url, bob)
    cat_ws, _ = await socket_of(live.url, cat)
    conversation = await post(
        live.url,
        ann,
        "/api/v1/conversations",
        {"members": [bob.user_id, cat.user_id], "name": "Harbour"},
    )
    cid = conversation["id"]
    created = {}
    for name, ws in (("ann", ann_ws), ("bob", bob_ws), ("cat", cat_ws)):
        created[name] = (await until(ws, "conversation.created"))[-1]
        assert created[name]["data"]["conversation_id"] == cid
    cat_seq = created["cat"]["seq"]
    await cat_ws.close()  # cat goes offline
    sent = await post(live.url, bob, f"/api/v1/conversations/{cid}/messages", {"text": "hi all"})
    for ws in (ann_ws, bob_ws):  # the sender's own socket hears it too
        event = (await until(ws, "message.created"))[-1]
        assert event["data"] == {"conversation_id": cid, "message": sent}
    second = await post(live.url, ann, f"/api/v1/conversations/{cid}/messages", {"text": "hey bob"})
    async with httpx.AsyncClient(base_url=live.url, headers=bob.headers) as http:
        edited = await http.patch(
            f"/api/v1/conversations/{cid}/messages/{sent['id']}", json={"text": "hi, all"}
        )
        assert edited.status_code == 200, edited.text
    async with httpx.AsyncClient(base_url=live.url, headers=ann.headers) as http:
        gone = await http.delete(f"/api/v1/conversations/{cid}/messages/{second['id']}")
        assert gone.status_code == 200, gone.text
    seen = await until(bob_ws, "message.deleted")
    assert [m["type"] for m in seen] == ["message.created", "message.edited", "message.deleted"]
    assert seen[1]["data"]["message"]["text"] == "hi, all"
    assert seen[2]["data"]["message"] == second | {
        "text": None,
        "attachments": [],
        "deleted": True,
    }
    # cat comes back and asks for what came after the last event it saw
    cat_ws, replayed = await socket_of(live.url, cat, after=cat_seq)
    kinds = [m["type"] for m in replayed]
    assert kinds == [
        "message.created",
        "message.created",
        "message.edited",
        "message.deleted",
        "ready",
    ]
    assert [m["data"]["message"]["id"] for m in replayed[:4]] == [
        sent["id"],
        second["id"],
        sent["id"],
        second["id"],
    ]
    assert replayed[-1]["seq"] == replayed[-2]["seq"]
    # then it follows live: membership changes reach everyone concerned
    async with httpx.AsyncClient(base_url=live.url, headers=ann.headers) as http:
        removed = await http.delete(f"/api/v1/conversations/{cid}/members/{bob.user_id}")
        assert removed.status_code == 204, removed.text
    for ws in (ann_ws, bob_ws, cat_ws):
        event = (await until(ws, "conversation.member_removed"))[-1]
        assert event["data"]["user_id"] == bob.user_id
        assert bob.user_id not in event["data"]["members"]
    await post(live.url, cat, f"/api/v1/conversations/{cid}/messages", {"text": "bob left"})
    assert (await until(ann_ws, "message.created"))[-1]["data"]["message"]["text"] == "bob left"
    # the removed member hears nothing more: the next thing bob hears comes after "bob left"
    # (events arrive in the order they committed), and it is ann's new private conversation
    dm = await post(live.url, ann, "/api/v1/conversations", {"members": [bob.user_id]})
    following = await _recv(bob_ws)
    assert following["type"] == "conversation.created"
    assert following["data"]["conversation_id"] == dm["id"]
    for ws in (ann_ws, bob_ws, cat_ws):
        await ws.close()
