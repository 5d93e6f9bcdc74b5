"""Deleting an account (seed 001) as a process: at once, then purged by a job."""

from __future__ import annotations

from sqlmodel import col, select

from mcore.auth.models import User
from mcore.files.models import File
from mcore.folders.models import Folder
from mcore.jobs.worker import Worker
from mcore.records.models import Record
from tests import media
from tests.conftest import MakeClient


async def test_delete_an_account_then_purge_it(make_client: MakeClient, server_app, db) -> None:
    admin = await make_client("admin")
    leaving = await make_client("user")
    friend = await make_client("user")
    folder = (await leaving.post("/api/v1/folders", json={"name": "Work"})).json()
    photo = (
        await leaving.post(
            f"/api/v1/files?filename=p.png&folder_id={folder['id']}", content=media.png(40, 30)
        )
    ).json()[0]
    await leaving.patch(f"/api/v1/files/{photo['id']}", json={"visibility": "public"})
    artist = (await leaving.post("/api/v1/artists", json={"name": {"full": "Leaving"}})).json()
    await leaving.patch(f"/api/v1/artists/{artist['id']}", json={"visibility": "public"})
    share = await leaving.post(
        "/api/v1/shares",
        json={"object_type": "folder", "object_id": folder["id"], "user_id": friend.user_id},
    )
    assert share.status_code == 201
    # the friend builds on the leaving account's public work
    linked = await friend.post("/api/v1/image-files", json={"file": photo["cid"]})
    assert linked.status_code == 201, linked.text
    # the rules first: not oneself, not while `undeletable` names users
    assert (await admin.delete(f"/api/v1/admin/users/{admin.user_id}")).status_code == 409
    await admin.put("/api/v1/admin/settings/undeletable", json={"value": ["users"]})
    refused = await admin.delete(f"/api/v1/admin/users/{leaving.user_id}")
    assert refused.status_code == 403
    await admin.put("/api/v1/admin/settings/undeletable", json={"value": []})

    reply = await admin.delete(f"/api/v1/admin/users/{leaving.user_id}")
    assert reply.status_code == 200, reply.text
    report = reply.json()
    assert report["files"] == 1
    assert report["folders"] == 2  # the folder and the account's root
    assert report["records"] == 1
    assert report["still_used"]["files_linked_by_others"] == [photo["id"]]
    assert report["still_used"]["shares_revoked"] == 1
    # at once: signed out, shares revoked, out of everyone's sight
    assert (await leaving.get("/api/v1/auth/me")).status_code == 401
    assert (await friend.get(f"/api/v1/folders/{folder['id']}/children")).status_code == 404
    assert (await friend.get(f"/api/v1/files/{photo['id']}")).status_code == 404
    assert (await friend.get(f"/api/v1/artists/{artist['id']}")).status_code == 404
    assert (await admin.get(f"/api/v1/artists/{artist['id']}")).status_code == 200
    again = await admin.delete(f"/api/v1/admin/users/{leaving.user_id}")
    assert again.status_code == 409

    # restorable until the purge runs
    back = await admin.post(f"/api/v1/admin/users/{leaving.user_id}/restore")
    assert back.status_code == 200, back.text
    assert back.json()["disabled"] is False
    assert (await friend.get(f"/api/v1/files/{photo['id']}")).status_code == 200
    assert (await friend.get(f"/api/v1/artists/{artist['id']}")).status_code == 200

    # now for good: purged by its job, with progress to the end
    reply = await admin.delete(f"/api/v1/admin/users/{leaving.user_id}?purge=true")
    job_id = reply.json()["purge_job_id"]
    worker = Worker(server_app.state.settings, db=db, store=server_app.state.store)
    await worker.drain()
    job = (await admin.get(f"/api/v1/jobs/{job_id}")).json()
    assert job["state"] == "succeeded", job
    assert job["progress"] == 100
    assert job["result"]["files"] == 1
    assert job["result"]["records"] == 1
    async with db.session() as session:
        assert (
            await session.exec(select(File).where(File.owner_id == leaving.user_id))
        ).all() == []
        assert (
            await session.exec(select(Record).where(Record.owner_id == leaving.user_id))
        ).all() == []
        folders = await session.exec(select(Folder).where(col(Folder.owner_id) == leaving.user_id))
        assert folders.all() == []
        user = await session.get(User, leaving.user_id)
    assert user is not None
    assert user.disabled
    assert leaving.username not in (user.username, user.email)
    # the friend's record stays, as the report said
    assert (await friend.get(f"/api/v1/image-files/{linked.json()['id']}")).status_code == 200
    gone = await admin.post(f"/api/v1/admin/users/{leaving.user_id}/restore")
    assert gone.status_code == 410
