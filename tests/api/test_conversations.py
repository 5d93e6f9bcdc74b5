"""Conversations and messages over HTTP (the live delivery is in test_conversation_events):
private and group conversations, members, edits and deletes, read markers and unread
counts, history and search, attachments checked for every member, blocks and limits."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import col, select

from mcore.cid import file_cid
from mcore.events import Event
from mcore.settings import Settings
from msocial.messaging.models import Conversation, ConversationMember, Message
from tests.conftest import AuthedClient, MakeClient

PROBLEM = "application/problem+json"


async def _conversation(http: AuthedClient, *members: AuthedClient, **body: Any) -> Any:
    reply = await http.post(
        "/api/v1/conversations", json={"members": [m.user_id for m in members], **body}
    )
    assert reply.status_code == 201, reply.text
    return reply.json()


async def _send(http: AuthedClient, conversation_id: str, text: str, **body: Any) -> Any:
    reply = await http.post(
        f"/api/v1/conversations/{conversation_id}/messages", json={"text": text, **body}
    )
    assert reply.status_code == 201, reply.text
    return reply.json()


async def _texts(http: AuthedClient, conversation_id: str, **params: Any) -> list[str | None]:
    reply = await http.get(f"/api/v1/conversations/{conversation_id}/messages", params=params)
    assert reply.status_code == 200, reply.text
    return [m["text"] for m in reply.json()["items"]]


def _problem(reply: Any, status: int) -> dict[str, Any]:
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith(PROBLEM)
    return dict(reply.json())


async def test_a_private_conversation_is_one_per_pair(make_client: MakeClient, db) -> None:
    ann, bob = await make_client(), await make_client()
    first = await _conversation(ann, bob)
    assert first["kind"] == "private"
    assert first["name"] is None
    assert sorted(m["user_id"] for m in first["members"]) == sorted([ann.user_id, bob.user_id])
    assert {m["username"] for m in first["members"]} == {ann.username, bob.username}
    # either of the two starting it again gets the same one back, with 200
    again = await bob.post("/api/v1/conversations", json={"members": [ann.user_id]})
    assert again.status_code == 200, again.text
    assert again.json()["id"] == first["id"]
    async with db.session() as session:
        rows = (await session.exec(select(Conversation))).all()
    assert [r.id for r in rows] == [first["id"]]


async def test_bad_conversations_are_refused_with_nothing_left(
    make_client: MakeClient, settings: Settings, db
) -> None:
    ann = await make_client()
    guest = await make_client("guest")
    anon = await make_client(None)
    _problem(await ann.post("/api/v1/conversations", json={"members": []}), 422)
    _problem(await ann.post("/api/v1/conversations", json={"members": [ann.user_id]}), 422)
    unknown = await ann.post(
        "/api/v1/conversations", json={"members": ["01jh5y3q9x4v8k2m6n7p0r1s2t"]}
    )
    assert "no account" in _problem(unknown, 422)["detail"]
    blank = await ann.post(
        "/api/v1/conversations", json={"members": [guest.user_id], "name": "   "}
    )
    assert "name" in _problem(blank, 422)["detail"]
    _problem(await ann.post("/api/v1/conversations", json={"name": "x"}), 422)
    _problem(await guest.post("/api/v1/conversations", json={"members": [ann.user_id]}), 403)
    _problem(await anon.post("/api/v1/conversations", json={"members": [ann.user_id]}), 401)
    _problem(await anon.get("/api/v1/conversations"), 401)
    async with db.session() as session:
        assert (await session.exec(select(Conversation))).all() == []
        assert (await session.exec(select(ConversationMember))).all() == []


async def test_only_members_read_and_a_removed_member_sees_nothing_new(
    make_client: MakeClient, db
) -> None:
    ann, bob, cat, eve = [await make_client() for _ in range(4)]
    admin = await make_client("admin")
    group = await _conversation(ann, bob, cat, name="Harbour  crew ")
    assert group["kind"] == "group"
    assert group["name"] == "Harbour crew"
    roles = {m["user_id"]: m["role"] for m in group["members"]}
    assert roles == {ann.user_id: "admin", bob.user_id: "member", cat.user_id: "member"}
    cid = group["id"]
    await _send(bob, cid, "first")
    for outsider in (eve, admin):  # admins too: what members say is theirs
        _problem(await outsider.get(f"/api/v1/conversations/{cid}"), 404)
        _problem(await outsider.get(f"/api/v1/conversations/{cid}/messages"), 404)
        _problem(
            await outsider.post(f"/api/v1/conversations/{cid}/messages", json={"text": "hi"}), 404
        )
    assert (await eve.get("/api/v1/conversations")).json()["items"] == []
    # only an admin adds and removes others
    _problem(
        await bob.post(f"/api/v1/conversations/{cid}/members", json={"user_id": eve.user_id}), 403
    )
    _problem(await bob.delete(f"/api/v1/conversations/{cid}/members/{cat.user_id}"), 403)
    removed = await ann.delete(f"/api/v1/conversations/{cid}/members/{cat.user_id}")
    assert removed.status_code == 204, removed.text
    await _send(bob, cid, "after cat left")
    _problem(await cat.get(f"/api/v1/conversations/{cid}"), 404)
    _problem(await cat.get(f"/api/v1/conversations/{cid}/messages"), 404)
    assert (await cat.get("/api/v1/conversations")).json()["items"] == []
    async with db.session() as session:
        heard = (
            await session.exec(
                select(Event).where(Event.user_id == cat.user_id, Event.type == "message.created")
            )
        ).all()
    assert [e.payload["message"]["text"] for e in heard] == ["first"]
    # a newcomer reads the history and owes none of it
    added = await ann.post(f"/api/v1/conversations/{cid}/members", json={"user_id": eve.user_id})
    assert added.status_code == 201, added.text
    _problem(
        await ann.post(f"/api/v1/conversations/{cid}/members", json={"user_id": eve.user_id}), 409
    )
    assert await _texts(eve, cid) == ["after cat left", "first"]
    mine = (await eve.get(f"/api/v1/conversations/{cid}")).json()
    assert mine["unread"] == 0
    assert mine["read_seq"] == 2
    # a member leaves by removing themselves
    assert (
        await bob.delete(f"/api/v1/conversations/{cid}/members/{bob.user_id}")
    ).status_code == 204
    _problem(await bob.get(f"/api/v1/conversations/{cid}"), 404)
    # a private conversation has its two members, no more, no fewer
    private = await _conversation(ann, eve)
    _problem(
        await ann.post(
            f"/api/v1/conversations/{private['id']}/members", json={"user_id": bob.user_id}
        ),
        422,
    )
    _problem(await ann.delete(f"/api/v1/conversations/{private['id']}/members/{eve.user_id}"), 422)


async def test_edits_and_deletes_by_the_sender_only(make_client: MakeClient) -> None:
    ann, bob = await make_client(), await make_client()
    cid = (await _conversation(ann, bob))["id"]
    message = await _send(ann, cid, "helo")
    url = f"/api/v1/conversations/{cid}/messages/{message['id']}"
    _problem(await bob.patch(url, json={"text": "hacked"}), 403)
    _problem(await bob.delete(url), 403)
    edited = await ann.patch(url, json={"text": "hello"})
    assert edited.status_code == 200, edited.text
    assert edited.json()["text"] == "hello"
    assert edited.json()["edited_at"] is not None
    assert await _texts(bob, cid) == ["hello"]
    gone = await ann.delete(url)
    assert gone.status_code == 200, gone.text
    assert gone.json()["deleted"] is True
    assert gone.json()["text"] is None
    page = (await bob.get(f"/api/v1/conversations/{cid}/messages")).json()["items"]
    assert [(m["id"], m["deleted"], m["text"]) for m in page] == [(message["id"], True, None)]
    _problem(await ann.patch(url, json={"text": "back"}), 409)
    _problem(
        await ann.patch(
            f"/api/v1/conversations/{cid}/messages/01jh5y3q9x4v8k2m6n7p0r1s2t", json={"text": "x"}
        ),
        404,
    )


async def test_unread_counts_and_read_markers(make_client: MakeClient) -> None:
    ann, bob, cat = [await make_client() for _ in range(3)]
    group = (await _conversation(ann, bob, cat, name="Three"))["id"]
    private = (await _conversation(ann, bob))["id"]
    sent = [await _send(bob, group, f"g{i}") for i in range(3)]
    await _send(ann, group, "ann's own")
    await _send(bob, private, "psst")
    listed = (await cat.get("/api/v1/conversations")).json()["items"]
    assert [(c["id"], c["unread"]) for c in listed] == [(group, 4)]
    listed = (await ann.get("/api/v1/conversations")).json()["items"]
    # the most recently active first; one's own message counts as read up to it
    assert [(c["id"], c["unread"]) for c in listed] == [(private, 1), (group, 0)]
    marked = await cat.post(
        f"/api/v1/conversations/{group}/read", json={"message_id": sent[1]["id"]}
    )
    assert marked.status_code == 200, marked.text
    assert (marked.json()["read_seq"], marked.json()["unread"]) == (2, 2)
    # a marker never goes back
    back = await cat.post(f"/api/v1/conversations/{group}/read", json={"message_id": sent[0]["id"]})
    assert (back.json()["read_seq"], back.json()["unread"]) == (2, 2)
    _problem(
        await cat.post(
            f"/api/v1/conversations/{group}/read", json={"message_id": "01jh5y3q9x4v8k2m6n7p0r1s2t"}
        ),
        404,
    )
    await _send(ann, group, "one more")
    assert (await cat.get(f"/api/v1/conversations/{group}")).json()["unread"] == 3


async def test_history_pages_newest_first_and_search_is_literal(
    make_client: MakeClient,
) -> None:
    ann, bob = await make_client(), await make_client()
    cid = (await _conversation(ann, bob))["id"]
    for i in range(7):
        await _send(ann if i % 2 else bob, cid, f"message {i}")
    await _send(ann, cid, "100% sure")
    await _send(ann, cid, "a_b and AB")
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 4} | ({"cursor": cursor} if cursor else {})
        page = (await bob.get(f"/api/v1/conversations/{cid}/messages", params=params)).json()
        seen += [m["seq"] for m in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == list(range(9, 0, -1))
    assert await _texts(bob, cid, q="MESSAGE 3") == ["message 3"]
    assert await _texts(bob, cid, q="%") == ["100% sure"]
    assert await _texts(bob, cid, q="a_b") == ["a_b and AB"]
    assert await _texts(bob, cid, q="nothing like it") == []
    _problem(await bob.get(f"/api/v1/conversations/{cid}/messages", params={"cursor": "nope"}), 422)


async def test_attachments_must_be_readable_by_every_member(make_client: MakeClient, db) -> None:
    ann, bob, cat = [await make_client() for _ in range(3)]
    cid = (await _conversation(ann, bob, cat, name="Proofs"))["id"]
    data = b"the proof sheet"
    upload = await ann.post("/api/v1/files?filename=proof.txt", content=data)
    assert upload.status_code == 201, upload.text
    file = upload.json()[0]
    refused = await ann.post(
        f"/api/v1/conversations/{cid}/messages", json={"text": "see", "attachments": [file["cid"]]}
    )
    assert "not every member" in _problem(refused, 422)["detail"]
    # shared with bob only: cat still cannot read it
    share = {"object_type": "file", "object_id": file["id"], "level": "view"}
    assert (
        await ann.post("/api/v1/shares", json=share | {"user_id": bob.user_id})
    ).status_code == 201
    _problem(
        await ann.post(
            f"/api/v1/conversations/{cid}/messages",
            json={"text": "see", "attachments": [file["cid"]]},
        ),
        422,
    )
    # bytes the sender cannot read are theirs to fix, said without naming anyone
    mine_not = await bob.post(
        f"/api/v1/conversations/{cid}/messages",
        json={"text": "x", "attachments": [file_cid(b"something nobody uploaded")]},
    )
    assert "you may read" in _problem(mine_not, 422)["detail"]
    _problem(
        await ann.post(
            f"/api/v1/conversations/{cid}/messages",
            json={"text": "x", "attachments": ["QmNotOurs"]},
        ),
        422,
    )
    assert (
        await ann.post("/api/v1/shares", json=share | {"user_id": cat.user_id})
    ).status_code == 201
    sent = await _send(ann, cid, "see", attachments=[file["cid"], file["cid"]])
    assert sent["attachments"] == [file["cid"]]
    async with db.session() as session:
        rows = (await session.exec(select(Message))).all()
    assert [(r.text, r.attachments) for r in rows] == [("see", [file["cid"]])]
    # and cat reads the bytes through the blob route
    assert (await cat.get(f"/blobs/{file['cid']}")).content == data


async def test_blocking_stops_messages_to_the_blocker(make_client: MakeClient, db) -> None:
    ann, bob, cat = [await make_client() for _ in range(3)]
    private = (await _conversation(ann, bob))["id"]
    group = (await _conversation(ann, bob, cat, name="Three"))["id"]
    await _send(bob, private, "before")
    blocked = await ann.post("/api/v1/blocks", json={"user_id": bob.user_id})
    assert blocked.status_code == 201, blocked.text
    assert (await ann.post("/api/v1/blocks", json={"user_id": bob.user_id})).status_code == 200
    assert [b["user_id"] for b in (await ann.get("/api/v1/blocks")).json()] == [bob.user_id]
    _problem(await ann.post("/api/v1/blocks", json={"user_id": ann.user_id}), 422)
    _problem(await ann.post("/api/v1/blocks", json={"user_id": "01jh5y3q9x4v8k2m6n7p0r1s2t"}), 404)
    # a private conversation with someone who blocks you takes nothing more from you
    refused = await bob.post(f"/api/v1/conversations/{private}/messages", json={"text": "hey"})
    _problem(refused, 403)
    # ann may still write to bob
    await _send(ann, private, "I'm busy")
    # in a group, bob's messages reach cat and not ann
    await _send(bob, group, "from bob")
    await _send(cat, group, "from cat")
    assert await _texts(ann, group) == ["from cat"]
    assert await _texts(cat, group) == ["from cat", "from bob"]
    assert (await ann.get(f"/api/v1/conversations/{group}")).json()["unread"] == 1
    async with db.session() as session:
        heard = (
            await session.exec(
                select(Event).where(Event.user_id == ann.user_id, Event.type == "message.created")
            )
        ).all()
    # what bob said before the block was heard then; nothing of his since
    assert sorted(e.payload["message"]["text"] for e in heard) == ["I'm busy", "before", "from cat"]
    # and the blocker's history leaves him out
    assert await _texts(ann, private) == ["I'm busy"]
    assert (await ann.delete(f"/api/v1/blocks/{bob.user_id}")).status_code == 204
    await _send(bob, private, "back")
    assert (await ann.get("/api/v1/blocks")).json() == []


async def test_the_limits_in_settings(make_client: MakeClient, settings: Settings, db) -> None:
    settings.messaging = settings.messaging.model_copy(
        update={"messages_per_minute": 3, "max_message_size": 10, "max_group_members": 3}
    )
    ann, bob, cat, dan = [await make_client() for _ in range(4)]
    too_many = await ann.post(
        "/api/v1/conversations",
        json={"members": [bob.user_id, cat.user_id, dan.user_id], "name": "Four"},
    )
    assert "max_group_members" in _problem(too_many, 422)["detail"]
    cid = (await _conversation(ann, bob, cat, name="Three"))["id"]
    full = await ann.post(f"/api/v1/conversations/{cid}/members", json={"user_id": dan.user_id})
    assert "max_group_members" in _problem(full, 422)["detail"]
    big = await ann.post(f"/api/v1/conversations/{cid}/messages", json={"text": "é" * 6})
    assert "max_message_size" in _problem(big, 413)["detail"]
    _problem(await ann.post(f"/api/v1/conversations/{cid}/messages", json={"text": "  "}), 422)
    _problem(await ann.post(f"/api/v1/conversations/{cid}/messages", json={"text": "a\x00b"}), 422)
    _problem(await ann.post(f"/api/v1/conversations/{cid}/messages", json={"text": 5}), 422)
    for i in range(3):
        await _send(ann, cid, f"m{i}")
    limited = await ann.post(f"/api/v1/conversations/{cid}/messages", json={"text": "m3"})
    assert "messages_per_minute" in _problem(limited, 429)["detail"]
    assert int(limited.headers["retry-after"]) >= 1
    await _send(bob, cid, "bob too")
    async with db.session() as session:
        rows = (await session.exec(select(Message).order_by(col(Message.seq)))).all()
    assert [r.text for r in rows] == ["m0", "m1", "m2", "bob too"]


@pytest.mark.parametrize("scopes", [["files:read"], ["records:read"]])
async def test_keys_need_the_records_scopes(make_client: MakeClient, scopes: list[str]) -> None:
    ann, bob = await make_client(), await make_client()
    cid = (await _conversation(ann, bob))["id"]
    key = await ann.post("/api/v1/auth/keys", json={"name": "bot", "scopes": scopes})
    assert key.status_code == 201, key.text
    headers = {"Authorization": f"Bearer {key.json()['key']}"}
    read = await ann.get(f"/api/v1/conversations/{cid}/messages", headers=headers)
    sent = await ann.post(
        f"/api/v1/conversations/{cid}/messages", json={"text": "x"}, headers=headers
    )
    if "records:read" in scopes:
        assert read.status_code == 200, read.text
    else:
        _problem(read, 403)
    _problem(sent, 403)


async def test_input_no_row_can_hold_is_refused_not_a_500(make_client: MakeClient) -> None:
    ann, bob = await make_client(), await make_client()
    cid = (await _conversation(ann, bob))["id"]
    await _send(ann, cid, "hello")
    base = f"/api/v1/conversations/{cid}"
    _problem(await ann.get("/api/v1/conversations/not%00an-id"), 404)
    _problem(await ann.get(f"{base}/messages/x%00"), 405)  # no GET of one message
    _problem(await ann.patch(f"{base}/messages/x%00", json={"text": "x"}), 404)
    _problem(await ann.post(f"{base}/read", json={"message_id": "x\x00"}), 404)
    assert (await ann.get(f"{base}/messages", params={"q": "a\x00"})).json()["items"] == []
    for cursor in ("eyJzZXEiOjEwMDAwMDAwMDAwMDAwMDAwMDB9", "eyJzZXEiOiJ4In0"):
        _problem(await ann.get(f"{base}/messages", params={"cursor": cursor}), 422)
    naive = "eyJhdCI6IjIwMjYtMDEtMDEiLCJpZCI6IngifQ"  # {"at":"2026-01-01","id":"x"}
    _problem(await ann.get("/api/v1/conversations", params={"cursor": naive}), 422)
    named = await ann.post(
        "/api/v1/conversations", json={"members": [bob.user_id], "name": "a\x00b"}
    )
    assert "control characters" in _problem(named, 422)["detail"]
    odd = await ann.post("/api/v1/conversations", json={"members": ["\x00"]})
    assert "no account" in _problem(odd, 422)["detail"]
    assert (await ann.delete("/api/v1/blocks/x%00")).status_code == 204
    _problem(await ann.post("/api/v1/blocks", json={"user_id": "x\x00"}), 404)
