"""Folders in three spaces, over HTTP: seed 000's test plan, then moves, names, children.

Seed 000's list: create a system folder with wrong permissions, at the root and at levels
1-3; a user root and sub-folders at levels 1-2 with wrong and right permissions; a group
(store) root and sub-folders likewise; delete with wrong permissions; delete a root
folder and check that both records and files are gone after step II; upload with wrong
permissions, with correct metadata, into a sub-path; delete files and check records and
blobs.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import col, select

from mcore.files.models import File
from mcore.folders.models import Folder
from mcore.jobs.worker import Worker
from mcore.maintenance import collect_garbage
from mcore.refs import BlobRef
from tests.conftest import AuthedClient, MakeClient


async def make(http: AuthedClient, name: str, **body: Any) -> dict[str, Any]:
    reply = await http.post("/api/v1/folders", json={"name": name, **body})
    assert reply.status_code == 201, reply.text
    return reply.json()


async def upload(
    http: AuthedClient, data: bytes, *, folder_id: str | None = None, name: str = "a.txt"
) -> Any:
    query = f"?filename={name}" + (f"&folder_id={folder_id}" if folder_id else "")
    return await http.post(f"/api/v1/files{query}", content=data)


async def chain(http: AuthedClient, depth: int, **first: Any) -> list[dict[str, Any]]:
    """Folders nested ``depth`` deep: level 1 under the root, each next one inside."""
    made = [await make(http, "level 1", **first)]
    for level in range(2, depth + 1):
        made.append(await make(http, f"level {level}", parent_id=made[-1]["id"]))
    return made


async def test_user_space_root_and_sub_folders(make_client: MakeClient) -> None:
    owner = await make_client("user")
    other = await make_client("user")
    roots = (await owner.get("/api/v1/folders")).json()
    (mine,) = roots
    assert mine["space"] == "user"
    assert mine["parent_id"] is None
    assert mine["access"] == "own"
    first, second = await chain(owner, 2)
    assert first["parent_id"] == mine["id"]
    assert second["parent_id"] == first["id"]
    assert [c["id"] for c in second["path"]] == [mine["id"], first["id"], second["id"]]
    assert [c["name"] for c in second["path"]] == ["My files", "level 1", "level 2"]
    # wrong permissions: another user can neither see nor add to them (404, not 403)
    for folder in (mine, first, second):
        reply = await other.post(
            "/api/v1/folders", json={"name": "intruder", "parent_id": folder["id"]}
        )
        assert reply.status_code == 404, reply.text
        assert (await other.get(f"/api/v1/folders/{folder['id']}")).status_code == 404


@pytest.mark.parametrize("depth", [0, 1, 2, 3])
async def test_system_space_is_staff_only(make_client: MakeClient, depth: int) -> None:
    admin = await make_client("admin")
    user = await make_client("user")
    moderator = await make_client("moderator")
    parent: dict[str, Any] | None = None
    if depth:
        parent = (await chain(admin, depth, space="system"))[-1]
        assert parent["space"] == "system"
    body: dict[str, Any] = {"name": "not mine"}
    body.update({"parent_id": parent["id"]} if parent else {"space": "system"})
    reply = await user.post("/api/v1/folders", json=body)
    # a user may not even see the system space's folders; the root refuses by name
    assert reply.status_code == (404 if parent else 403), reply.text
    assert reply.headers["content-type"] == "application/problem+json"
    ok = await moderator.post("/api/v1/folders", json=body | {"name": "staff made"})
    assert ok.status_code == 201, ok.text
    assert ok.json()["space"] == "system"


async def test_system_group_staff_are_platform_staff(make_client: MakeClient) -> None:
    admin = await make_client("admin")
    user = await make_client("user")
    assert (
        await user.post("/api/v1/folders", json={"name": "x", "space": "system"})
    ).status_code == 403
    groups = (await admin.get("/api/v1/admin/system-groups")).json()
    staff = next(g for g in groups if g["system"] == "staff")
    added = await admin.post(
        f"/api/v1/groups/{staff['id']}/members", json={"username": user.username}
    )
    assert added.status_code == 201, added.text
    reply = await user.post("/api/v1/folders", json={"name": "x", "space": "system"})
    assert reply.status_code == 201, reply.text


@pytest.mark.parametrize("depth", [0, 1, 2])
async def test_group_space_by_role(make_client: MakeClient, depth: int) -> None:
    owner = await make_client("user")
    member = await make_client("user")
    outsider = await make_client("user")
    group = (await owner.post("/api/v1/groups", json={"name": f"Store {depth}"})).json()
    await owner.post(f"/api/v1/groups/{group['id']}/members", json={"username": member.username})
    parent_id = group["root_id"]
    if depth:
        parent_id = (await chain(owner, depth, parent_id=group["root_id"]))[-1]["id"]
    reply = await outsider.post("/api/v1/folders", json={"name": "no", "parent_id": parent_id})
    assert reply.status_code == 404, reply.text
    made = await member.post("/api/v1/folders", json={"name": "mine", "parent_id": parent_id})
    assert made.status_code == 201, made.text
    assert made.json()["space"] == "group"
    assert made.json()["group_id"] == group["id"]
    # a member adds and renames, but deleting what is in the group's space needs manage
    gone = await member.delete(f"/api/v1/folders/{made.json()['id']}")
    assert gone.status_code == 403, gone.text
    assert "manage" in gone.json()["detail"]
    assert (await owner.delete(f"/api/v1/folders/{made.json()['id']}")).status_code == 200


async def test_names_are_unique_among_siblings_case_insensitively(
    make_client: MakeClient,
) -> None:
    http = await make_client("user")
    first = await make(http, "Proofs")
    again = await http.post("/api/v1/folders", json={"name": "proofs"})
    assert again.status_code == 409, again.text
    # the same name elsewhere is fine, and so is a trashed one's name
    await make(http, "Proofs", parent_id=first["id"])
    assert (await http.delete(f"/api/v1/folders/{first['id']}")).status_code == 200
    await make(http, "PROOFS")
    for bad in ("a/b", "..", " ", "tab\there"):
        reply = await http.post("/api/v1/folders", json={"name": bad})
        assert reply.status_code == 422, (bad, reply.text)


async def test_upload_into_folders_runs_seed_000s_checks(make_client: MakeClient, db) -> None:
    owner = await make_client("user")
    other = await make_client("user")
    folder = (await chain(owner, 2))[-1]
    # the folder exists
    missing = await upload(owner, b"x", folder_id="01jf3z8w5qk1v9x2b7c4d6e8f0")
    assert missing.status_code == 404
    assert "folder" in missing.json()["detail"]
    # permission
    refused = await upload(other, b"x", folder_id=folder["id"])
    assert refused.status_code == 404, refused.text
    # correct: into a sub-path, and the record comes back with its folder
    stored = await upload(owner, b"into the sub-path", folder_id=folder["id"])
    assert stored.status_code == 201, stored.text
    (record,) = stored.json()
    assert record["folder_id"] == folder["id"]
    page = (await owner.get(f"/api/v1/folders/{folder['id']}/children")).json()
    assert [f["id"] for f in page["files"]] == [record["id"]]
    listed = (await owner.get(f"/api/v1/files?folder_id={folder['id']}")).json()["items"]
    assert [f["id"] for f in listed] == [record["id"]]
    # no folder named: the uploader's own root
    plain = (await upload(owner, b"plain")).json()[0]
    (root,) = (await owner.get("/api/v1/folders")).json()
    assert plain["folder_id"] == root["id"]
    async with db.session() as session:
        rows = (await session.exec(select(File))).all()
    assert len(rows) == 2  # the refused uploads left no row


async def test_support_uploads_into_a_users_space(make_client: MakeClient) -> None:
    admin = await make_client("admin")
    user = await make_client("user")
    helper = await make_client("user")
    folder = await make(user, "Help me")
    assert (await upload(helper, b"x", folder_id=folder["id"])).status_code == 404
    groups = (await admin.get("/api/v1/admin/system-groups")).json()
    support = next(g for g in groups if g["system"] == "support")
    added = await admin.post(
        f"/api/v1/groups/{support['id']}/members", json={"username": helper.username}
    )
    assert added.status_code == 201, added.text
    done = await upload(helper, b"fixed for you", folder_id=folder["id"])
    assert done.status_code == 201, done.text
    # the user sees it in their folder; the helper may not read the user's other files
    page = (await user.get(f"/api/v1/folders/{folder['id']}/children")).json()
    assert [f["filename"] for f in page["files"]] == ["a.txt"]
    assert (await helper.get(f"/api/v1/folders/{folder['id']}/children")).status_code == 404


async def test_rename_and_move_keep_everything_inside(make_client: MakeClient) -> None:
    http = await make_client("user")
    a, b, c = await chain(http, 3)
    other = await make(http, "elsewhere")
    file = (await upload(http, b"deep", folder_id=c["id"])).json()[0]
    moved = await http.patch(f"/api/v1/folders/{b['id']}", json={"parent_id": other["id"]})
    assert moved.status_code == 200, moved.text
    deep = (await http.get(f"/api/v1/folders/{c['id']}")).json()
    assert [x["name"] for x in deep["path"]] == ["My files", "elsewhere", "level 2", "level 3"]
    page = (await http.get(f"/api/v1/folders/{c['id']}/children")).json()
    assert [f["id"] for f in page["files"]] == [file["id"]]
    into_self = await http.patch(f"/api/v1/folders/{b['id']}", json={"parent_id": c["id"]})
    assert into_self.status_code == 422, into_self.text
    renamed = await http.patch(f"/api/v1/folders/{c['id']}", json={"name": "final"})
    assert renamed.json()["name"] == "final"
    assert (await http.get(f"/api/v1/folders/{a['id']}/children")).json()["folders"] == []


async def test_children_are_paged_folders_first(make_client: MakeClient) -> None:
    http = await make_client("user")
    parent = await make(http, "many")
    names = [f"sub {i:02}" for i in range(5)]
    for name in reversed(names):
        await make(http, name, parent_id=parent["id"])
    files = [
        (await upload(http, b"%d" % i, folder_id=parent["id"], name=f"f{i}.txt")).json()[0]
        for i in range(4)
    ]
    seen_folders, seen_files, cursor = [], [], None
    for _ in range(10):
        query = "?limit=3&sort=-created" + (f"&cursor={cursor}" if cursor else "")
        page = (await http.get(f"/api/v1/folders/{parent['id']}/children{query}")).json()
        seen_folders += [f["name"] for f in page["folders"]]
        seen_files += [f["id"] for f in page["files"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen_folders == names
    assert seen_files == [f["id"] for f in reversed(files)]
    bad = await http.get(f"/api/v1/folders/{parent['id']}/children?cursor=garbage")
    assert bad.status_code == 422


async def test_delete_a_folder_in_two_steps(
    make_client: MakeClient, server_app, db, frozen_clock
) -> None:
    """Seed 000: delete a root-level folder; after step II both the records and the files
    are gone, but a blob something else still uses stays."""
    owner = await make_client("user")
    stranger = await make_client("user")
    top, sub = await chain(owner, 2)
    only_here = (await upload(owner, b"only in the folder", folder_id=sub["id"])).json()[0]
    shared = (await upload(owner, b"also outside", folder_id=top["id"])).json()[0]
    outside = (await upload(owner, b"also outside")).json()[0]
    # wrong permissions
    assert (await stranger.delete(f"/api/v1/folders/{top['id']}")).status_code == 404
    # step I: out of view at once, restorable
    reply = await owner.delete(f"/api/v1/folders/{top['id']}")
    assert reply.status_code == 200, reply.text
    job = reply.json()["purge_job"]
    assert job["kind"] == "purge_folder"
    assert job["state"] == "queued"
    assert (await owner.get(f"/api/v1/folders/{sub['id']}")).status_code == 404
    assert (await owner.get(f"/api/v1/files/{only_here['id']}")).status_code == 404
    restored = await owner.post(f"/api/v1/folders/{top['id']}/restore")
    assert restored.status_code == 200, restored.text
    assert (await owner.get(f"/api/v1/files/{only_here['id']}")).status_code == 200
    # a sub-folder's own file restore points at the folder that took it
    reply = await owner.delete(f"/api/v1/folders/{top['id']}?purge=true")
    job = reply.json()["purge_job"]
    conflict = await owner.post(f"/api/v1/files/{only_here['id']}/restore")
    assert conflict.status_code == 409, conflict.text
    # step II, the job: file records and folder rows go, blobs are released
    worker = Worker(server_app.state.settings, db=db, store=server_app.state.store)
    await worker.drain()
    done = (await owner.get(f"/api/v1/jobs/{job['id']}")).json()
    assert done["state"] == "succeeded", done
    assert done["result"]["files"] == 2
    assert done["result"]["purged"] is True
    async with db.session() as session:
        ids = set((await session.exec(select(File.id))).all())
        folders = (
            await session.exec(select(Folder.id).where(col(Folder.id).in_([top["id"], sub["id"]])))
        ).all()
        refs = set((await session.exec(select(BlobRef.cid))).all())
    assert ids == {outside["id"]}
    assert folders == []
    assert shared["cid"] in refs
    assert only_here["cid"] not in refs
    store, settings = server_app.state.store, server_app.state.settings
    frozen_clock.offset += settings.gc_grace_period.total_seconds() + 60
    await collect_garbage(db, store, settings)
    assert not await store.exists(only_here["cid"])
    assert await store.exists(outside["cid"])  # the same bytes, still used outside
