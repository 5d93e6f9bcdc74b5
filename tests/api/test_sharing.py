"""Groups and shares over HTTP: seed 004's scenario, guests' uploads, group shares, expiry,
revocation on every path (the fast read path's grants too), and live notifications."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import select
from websockets.asyncio.client import connect

from mcore.files.models import File
from mcore.settings import Settings
from tests import media
from tests.conftest import PASSWORD, AuthedClient, LiveServer, MakeClient, create_account


async def _file(http: AuthedClient, data: bytes = b"a test file", name: str = "test.txt") -> Any:
    reply = await http.post(f"/api/v1/files?filename={name}", content=data)
    assert reply.status_code == 201, reply.text
    return reply.json()[0]


async def _share(http: AuthedClient, object_id: str, level: str, **to: Any) -> Any:
    body = {"object_type": "file", "object_id": object_id, "level": level, **to}
    reply = await http.post("/api/v1/shares", json=body)
    assert reply.status_code == 201, reply.text
    return reply.json()


async def test_seed_004s_example(make_client: MakeClient, db) -> None:
    """A file shared by the superuser (our admin) with admintest (our moderator: "can
    delete & view it", a manage share) and usertest (a user: "can only view it")."""
    jason = await make_client("admin", username="jason")
    admintest = await make_client("moderator", username="admintest")
    usertest = await make_client("user", username="usertest")
    other = await make_client("user", username="other")
    file = await _file(jason)
    await _share(jason, file["id"], "manage", username="admintest")
    await _share(jason, file["id"], "view", username="usertest")
    url = f"/api/v1/files/{file['id']}"
    # users download only their own files, public ones, and those shared with them
    assert (await usertest.get(f"{url}/content")).content == b"a test file"
    assert (await other.get(f"{url}/content")).status_code == 404
    shared = (await usertest.get("/api/v1/shares?with=me")).json()["items"]
    assert [s["object_id"] for s in shared] == [file["id"]]
    # usertest can only view it
    refused = await usertest.delete(url)
    assert refused.status_code == 403
    assert "manage" in refused.json()["detail"]
    assert (await usertest.patch(url, json={"filename": "mine.txt"})).status_code == 403
    # admintest can view and delete it
    assert (await admintest.get(url)).status_code == 200
    assert (await admintest.delete(url)).status_code == 200
    async with db.session() as session:
        row = (await session.exec(select(File).where(File.id == file["id"]))).one()
    assert row.deleted_at is not None
    # every role uploads into its own space (guests: see below)
    for http in (jason, admintest, usertest):
        assert (
            await http.post("/api/v1/files?filename=own.txt", content=b"own")
        ).status_code == 201


@pytest.mark.parametrize("allowed", [False, True])
async def test_guests_upload_only_when_allowed_and_within_their_quota(
    settings: Settings, allowed: bool
) -> None:
    from api.app import create_app

    tuned = settings.model_copy(update={"guest_uploads": allowed, "guest_quota": 10})
    app = create_app(tuned)
    async with app.lifespan():
        await create_account(app, role="guest", username="visitor")
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://mstack.test"
        ) as http:
            tokens = (
                await http.post(
                    "/api/v1/auth/login", json={"username": "visitor", "password": PASSWORD}
                )
            ).json()
            http.headers["Authorization"] = f"Bearer {tokens['access_token']}"
            first = await http.post("/api/v1/files?filename=a.txt", content=b"123456")
            assert first.status_code == (201 if allowed else 403), first.text
            if not allowed:
                assert "guest_uploads" in first.json()["detail"]
                return
            over = await http.post("/api/v1/files?filename=b.txt", content=b"123456")
            assert over.status_code == 507, over.text
            assert "guest_quota" in over.json()["detail"]
            # their own upload is theirs to delete, and never theirs to share
            file_id = first.json()[0]["id"]
            shared = await http.post(
                "/api/v1/shares",
                json={"object_type": "file", "object_id": file_id, "username": "visitor"},
            )
            assert shared.status_code == 403
            assert (await http.delete(f"/api/v1/files/{file_id}")).status_code == 200


async def test_group_shares_follow_membership(make_client: MakeClient) -> None:
    owner = await make_client("user")
    lead = await make_client("user")
    member = await make_client("user")
    group = (await lead.post("/api/v1/groups", json={"name": "Clients"})).json()
    added = await lead.post(
        f"/api/v1/groups/{group['id']}/members", json={"email": member.email, "role": "member"}
    )
    assert added.status_code == 201, added.text
    folder = (await owner.post("/api/v1/folders", json={"name": "Proofs"})).json()
    inside = (
        await owner.post(f"/api/v1/files?filename=p.jpg&folder_id={folder['id']}", content=b"p")
    ).json()[0]
    share = await owner.post(
        "/api/v1/shares",
        json={
            "object_type": "folder",
            "object_id": folder["id"],
            "group_id": group["id"],
            "level": "edit",
        },
    )
    assert share.status_code == 201, share.text
    page = (await member.get(f"/api/v1/folders/{folder['id']}/children")).json()
    assert [f["id"] for f in page["files"]] == [inside["id"]]
    # later files are reached too, and an edit share adds files to the folder
    later = await member.post(
        f"/api/v1/files?filename=notes.txt&folder_id={folder['id']}", content=b"notes"
    )
    assert later.status_code == 201, later.text
    assert (await owner.get(f"/api/v1/files/{later.json()[0]['id']}")).status_code == 200
    # leaving the group ends it at once
    left = await member.delete(f"/api/v1/groups/{group['id']}/members/{member.user_id}")
    assert left.status_code == 204, left.text
    assert (await member.get(f"/api/v1/folders/{folder['id']}/children")).status_code == 404
    assert (await member.get(f"/api/v1/files/{inside['id']}")).status_code == 404
    # a group keeps an owner
    alone = await lead.delete(f"/api/v1/groups/{group['id']}/members/{lead.user_id}")
    assert alone.status_code == 409


async def test_expiry_and_level_changes(make_client: MakeClient, frozen_clock) -> None:
    owner = await make_client("user")
    friend = await make_client("user")
    file = await _file(owner)
    soon = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()
    share = await _share(owner, file["id"], "view", user_id=friend.user_id, expires_at=soon)
    url = f"/api/v1/files/{file['id']}"
    assert (await friend.patch(url, json={"filename": "b.txt"})).status_code == 403
    raised = await owner.patch(f"/api/v1/shares/{share['id']}", json={"level": "edit"})
    assert raised.json()["level"] == "edit"
    assert (await friend.patch(url, json={"filename": "b.txt"})).status_code == 200
    frozen_clock.offset += 121
    assert (await friend.get(url)).status_code == 404
    again = await owner.get(f"/api/v1/shares/{share['id']}")
    assert again.json()["active"] is False
    past = await owner.post(
        "/api/v1/shares",
        json={
            "object_type": "file",
            "object_id": file["id"],
            "user_id": friend.user_id,
            "expires_at": "2020-01-01T00:00:00Z",
        },
    )
    assert past.status_code == 422


async def test_bad_share_requests_are_clear(make_client: MakeClient) -> None:
    owner = await make_client("user")
    file = await _file(owner)
    for body, status in (
        ({"object_type": "file", "object_id": file["id"]}, 422),  # nobody to share with
        ({"object_type": "file", "object_id": file["id"], "username": "nobody"}, 404),
        ({"object_type": "file", "object_id": file["id"], "username": owner.username}, 422),
        ({"object_type": "file", "object_id": "nope", "username": owner.username}, 404),
        ({"object_type": "planet", "object_id": file["id"], "username": "x"}, 400),
        (
            {"object_type": "file", "object_id": file["id"], "username": "x", "level": "own"},
            400,
        ),
    ):
        reply = await owner.post("/api/v1/shares", json=body)
        assert reply.status_code in (status, 422 if status == 400 else status), (body, reply.text)
        assert reply.headers["content-type"] == "application/problem+json"


@pytest.fixture
def live(settings: Settings) -> Iterator[LiveServer]:
    server = LiveServer(settings)
    server.start()
    yield server
    server.stop()


def test_revoking_ends_reads_at_once_on_the_fast_path(live: LiveServer) -> None:
    with httpx.Client(base_url=live.url, headers=live.headers) as owner:
        file = owner.post("/api/v1/files?filename=a.txt", content=b"fast bytes").json()[0]
        live.sign_in("user", username="friend")
        with httpx.Client(base_url=live.url, headers=dict(live.headers)) as friend:
            me = friend.get("/api/v1/auth/me").json()
            body = {"object_type": "file", "object_id": file["id"], "user_id": me["id"]}
            share = owner.post("/api/v1/shares", json=body).json()
            for _ in range(3):  # the first read checks the database, the next ones are granted
                assert friend.get(f"/blobs/{file['cid']}").content == b"fast bytes"
            revoked = owner.delete(f"/api/v1/shares/{share['id']}")
            assert revoked.status_code == 200
            assert revoked.json()["active"] is False
            assert friend.get(f"/blobs/{file['cid']}").status_code == 404
            assert friend.get(f"/api/v1/files/{file['id']}").status_code == 404


def test_shares_reach_the_recipients_events_socket(live: LiveServer) -> None:
    with httpx.Client(base_url=live.url, headers=live.headers) as owner:
        file = owner.post("/api/v1/files?filename=a.txt", content=b"notify").json()[0]
        live.sign_in("user", username="recipient")
        with httpx.Client(base_url=live.url, headers=dict(live.headers)) as recipient:
            me = recipient.get("/api/v1/auth/me").json()

        async def listen() -> list[dict[str, Any]]:
            seen: list[dict[str, Any]] = []
            async with connect(live.url.replace("http://", "ws://") + "/api/v1/events") as ws:
                await ws.send(json.dumps({"type": "auth", "token": live.token}))
                assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "ready"
                body = {"object_type": "file", "object_id": file["id"], "user_id": me["id"]}
                share = (await asyncio.to_thread(owner.post, "/api/v1/shares", json=body)).json()
                url = f"/api/v1/shares/{share['id']}"
                await asyncio.to_thread(owner.patch, url, json={"level": "edit"})
                await asyncio.to_thread(owner.delete, url)
                while len(seen) < 3:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if message["type"].startswith("share."):
                        seen.append(message)
            return seen

        seen = asyncio.run(listen())
    assert [m["type"] for m in seen] == ["share.granted", "share.changed", "share.revoked"]
    payloads = [m["data"] for m in seen]
    assert len({p["share_id"] for p in payloads}) == 1
    assert [p["level"] for p in payloads] == ["view", "edit", "edit"]


async def test_references_list_who_uses_a_file(make_client: MakeClient) -> None:
    owner = await make_client("user")
    other = await make_client("user")
    folder = (await owner.post("/api/v1/folders", json={"name": "Photos"})).json()
    data = media.png(64, 48)
    file = (
        await owner.post(f"/api/v1/files?filename=a.png&folder_id={folder['id']}", content=data)
    ).json()[0]
    twin = (await owner.post("/api/v1/files?filename=copy.png", content=data)).json()[0]
    made = await owner.post("/api/v1/image-files", json={"file": file["cid"]})
    assert made.status_code == 201, made.text
    refs = (await owner.get(f"/api/v1/files/{file['id']}/references")).json()
    assert {(r["kind"], r["id"]) for r in refs} == {
        ("record", made.json()["id"]),
        ("folder", folder["id"]),
        ("file", twin["id"]),
    }
    # another account sees nothing of them, and not even the file
    assert (await other.get(f"/api/v1/files/{file['id']}/references")).status_code == 404
    await owner.post(
        "/api/v1/shares",
        json={"object_type": "file", "object_id": file["id"], "user_id": other.user_id},
    )
    assert (await other.get(f"/api/v1/files/{file['id']}/references")).json() == []


async def test_undeletable_kinds_are_refused_until_an_admin_lifts_it(
    make_client: MakeClient,
) -> None:
    admin = await make_client("admin")
    owner = await make_client("user")
    file = await _file(owner)
    folder = (await owner.post("/api/v1/folders", json={"name": "Keep"})).json()
    artist = (await owner.post("/api/v1/artists", json={"name": {"full": "Kept"}})).json()
    turned = await admin.put(
        "/api/v1/admin/settings/undeletable", json={"value": ["files", "folders", "artists"]}
    )
    assert turned.status_code == 200, turned.text
    for http in (owner, admin):
        for url in (
            f"/api/v1/files/{file['id']}",
            f"/api/v1/folders/{folder['id']}",
            f"/api/v1/artists/{artist['id']}",
        ):
            reply = await http.delete(url)
            assert reply.status_code == 403, (url, reply.text)
            assert "undeletable" in reply.json()["detail"]
    lifted = await admin.put("/api/v1/admin/settings/undeletable", json={"value": []})
    assert lifted.status_code == 200, lifted.text
    assert (await owner.delete(f"/api/v1/files/{file['id']}")).status_code == 200


async def test_a_share_to_anyone_with_the_link(make_client: MakeClient) -> None:
    owner = await make_client("user")
    viewer = await make_client("user")
    nobody = await make_client(None)
    file = await _file(owner, b"for anyone")
    soon = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    made = await owner.post("/api/v1/shares/link", json={"file_id": file["id"], "expires_at": soon})
    assert made.status_code == 201, made.text
    link = made.json()
    assert abs(datetime.fromisoformat(link["expires_at"]) - datetime.fromisoformat(soon)) < (
        timedelta(seconds=5)
    )
    assert (await nobody.get(link["url"])).content == b"for anyone"
    # resharing needs manage: a view share is not enough, and strangers see no file
    await _share(owner, file["id"], "view", user_id=viewer.user_id)
    refused = await viewer.post("/api/v1/shares/link", json={"file_id": file["id"]})
    assert refused.status_code == 403
    assert (
        await nobody.post("/api/v1/shares/link", json={"file_id": file["id"]})
    ).status_code == 401
    # it ends as any link does: here, when the file goes to the trash
    await owner.delete(f"/api/v1/files/{file['id']}")
    assert (await nobody.get(link["url"])).status_code == 403
