"""DESIGN.md's "Who may read and write", cell by cell, over the file endpoints.

Each cell: one actor (owner, another user, moderator, admin, guest account, anonymous)
does one action on a file of the owner's that is private or public. Every cell asserts
the status and what happened to the row (or that nothing did).
"""

from typing import Any

import pytest
from sqlmodel import select

from mcore.files.models import File

ACTORS = ("owner", "other", "moderator", "admin", "guest", "anonymous")
VISIBILITIES = ("private", "public")
ACTIONS = (
    "list",
    "read",
    "content",
    "blob",
    "link",
    "rename",
    "set-visibility",
    "hide",
    "delete",
    "restore",
)
READERS = {"private": {"owner", "moderator", "admin"}, "public": set(ACTORS)}
WRITERS = {"owner", "admin"}  # only the owner or an admin changes or deletes
MODERATORS = {"moderator", "admin"}  # hide or show public files of others
DATA = b"the owner's bytes"


def expected(action: str, actor: str, visibility: str) -> int:
    """The status DESIGN.md's table calls for."""
    if action == "link" and actor == "anonymous":
        return 401  # links are made for signed-in readers only
    if actor not in READERS[visibility]:
        return 200 if action == "list" else 404  # unreadable files are simply not there
    if action in ("list", "read", "content", "blob"):
        return 200
    if action == "link":
        return 201
    if actor == "anonymous":
        return 401  # every change needs an account
    if action == "hide":
        if actor not in MODERATORS:
            return 403
        return 200 if visibility == "public" else 422  # only public files are hidden
    return 200 if actor in WRITERS else 403


async def row(db, file_id: str) -> dict[str, Any]:
    async with db.session() as session:
        file = (await session.exec(select(File).where(File.id == file_id))).one()
        return {
            "filename": file.filename,
            "visibility": file.visibility,
            "hidden": file.hidden,
            "deleted": file.deleted_at is not None,
        }


@pytest.mark.parametrize("visibility", VISIBILITIES)
@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("action", ACTIONS)
async def test_cell(make_client, db, action: str, actor: str, visibility: str) -> None:
    owner = await make_client("user", username="owner")
    file = (await owner.post("/api/v1/files?filename=mine.txt", content=DATA)).json()[0]
    if visibility == "public":
        assert (
            await owner.patch(f"/api/v1/files/{file['id']}", json={"visibility": "public"})
        ).status_code == 200
    if action == "restore":
        assert (await owner.delete(f"/api/v1/files/{file['id']}")).status_code == 200
    http = {
        "owner": owner,
        "other": None,
        "moderator": None,
        "admin": None,
        "guest": None,
        "anonymous": None,
    }[actor] or await make_client({"other": "user", "anonymous": None}.get(actor, actor))
    before = await row(db, file["id"])
    url = f"/api/v1/files/{file['id']}"
    flip = "private" if visibility == "public" else "public"

    match action:
        case "list":
            reply = await http.get("/api/v1/files")
        case "read":
            reply = await http.get(url)
        case "content":
            reply = await http.get(f"{url}/content")
        case "blob":
            reply = await http.get(f"/blobs/{file['cid']}")
        case "link":
            reply = await http.post("/api/v1/links", json={"file_id": file["id"]})
        case "rename":
            reply = await http.patch(url, json={"filename": "renamed.txt"})
        case "set-visibility":
            reply = await http.patch(url, json={"visibility": flip})
        case "hide":
            reply = await http.patch(url, json={"hidden": True})
        case "delete":
            reply = await http.delete(url)
        case "restore":
            reply = await http.post(f"{url}/restore")

    status = expected(action, actor, visibility)
    assert reply.status_code == status, reply.text
    if status >= 400:
        assert reply.headers["content-type"] == "application/problem+json"
        assert DATA.decode() not in reply.text
    after = await row(db, file["id"])
    changed = {k for k in before if before[k] != after[k]}

    if status >= 400 or action in ("list", "read", "content", "blob", "link"):
        assert changed == set(), f"{actor} {action} changed {changed}"
    if action == "list":
        ids = [f["id"] for f in reply.json()["items"]]
        assert (file["id"] in ids) == (actor in READERS[visibility])
    elif status == 200 and action == "read":
        assert reply.json()["id"] == file["id"]
    elif status == 200 and action in ("content", "blob"):
        assert reply.content == DATA
    elif status == 201 and action == "link":
        fetched = await make_client(None)
        assert (await fetched.get(reply.json()["url"])).content == DATA
    elif status == 200 and action == "rename":
        assert changed == {"filename"}
        assert after["filename"] == "renamed.txt"
    elif status == 200 and action == "set-visibility":
        assert changed == {"visibility"}
        assert after["visibility"] == flip
    elif status == 200 and action == "hide":
        assert changed == {"hidden"}
        assert after["hidden"] is True
    elif status == 200 and action == "delete":
        assert changed == {"deleted"}
        assert after["deleted"] is True
    elif status == 200 and action == "restore":
        assert changed == {"deleted"}
        assert after["deleted"] is False


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        ("user", 201),
        ("moderator", 201),
        ("admin", 201),
        ("guest", 403),
        (None, 401),
    ],
)
async def test_upload_by_role(make_client, db, actor, status) -> None:
    http = await make_client(actor)
    reply = await http.post("/api/v1/files?filename=new.txt", content=b"new")
    assert reply.status_code == status, reply.text
    async with db.session() as session:
        files = (await session.exec(select(File))).all()
        assert len(files) == (1 if status == 201 else 0)
        if files:
            assert files[0].owner_id == http.user_id  # the uploader owns it
            assert files[0].visibility == "private"  # private by default


async def test_hidden_public_file_is_out_of_sight_for_others_only(make_client, db) -> None:
    owner = await make_client("user")
    other = await make_client("user")
    moderator = await make_client("moderator")
    anonymous = await make_client(None)
    file = (await owner.post("/api/v1/files?filename=a.txt", content=b"a")).json()[0]
    await owner.patch(f"/api/v1/files/{file['id']}", json={"visibility": "public"})
    hide = await moderator.patch(f"/api/v1/files/{file['id']}", json={"hidden": True})
    assert hide.status_code == 200
    assert hide.json()["hidden"] is True
    for http in (other, anonymous):
        assert (await http.get(f"/api/v1/files/{file['id']}")).status_code == 404
        assert (await http.get(f"/blobs/{file['cid']}")).status_code == 404
        assert file["id"] not in [
            f["id"] for f in (await http.get("/api/v1/files")).json()["items"]
        ]
    for http in (owner, moderator):
        assert (await http.get(f"/api/v1/files/{file['id']}")).status_code == 200
    # The owner cannot unhide it; a moderator can.
    assert (
        await owner.patch(f"/api/v1/files/{file['id']}", json={"hidden": False})
    ).status_code == 403
    show = await moderator.patch(f"/api/v1/files/{file['id']}", json={"hidden": False})
    assert show.status_code == 200
    assert (await other.get(f"/api/v1/files/{file['id']}")).status_code == 200
    # A moderator changes nothing else of others' files.
    rename = await moderator.patch(
        f"/api/v1/files/{file['id']}", json={"hidden": True, "filename": "x.txt"}
    )
    assert rename.status_code == 403
    async with db.session() as session:
        row = await session.get(File, file["id"])
        assert (row.filename, row.hidden) == ("a.txt", False)


async def test_only_the_owner_deletes(make_client, db) -> None:
    """The seed backlog's item: of all users, only the owner deletes (and admins)."""
    owner = await make_client("user")
    other = await make_client("user")
    file = (await owner.post("/api/v1/files?filename=a.txt", content=b"a")).json()[0]
    await owner.patch(f"/api/v1/files/{file['id']}", json={"visibility": "public"})
    assert (await other.delete(f"/api/v1/files/{file['id']}")).status_code == 403
    async with db.session() as session:
        assert (await session.get(File, file["id"])).deleted_at is None
    assert (await owner.delete(f"/api/v1/files/{file['id']}")).status_code == 200
    async with db.session() as session:
        assert (await session.get(File, file["id"])).deleted_at is not None


# Every kind of credential a blob read can carry, on the fast path too. The fast path
# (api.fastpath) remembers a checked read for the credential that made it; each cell
# first lets the owner's own session read the blob (so a grant per account would leak),
# then reads twice with the credential: the first read is the full route's answer, the
# second the fast path's, and both must be what the full rule says.
CREDENTIALS = (
    "anonymous",
    "session",
    "key-files-read",
    "key-without-files-read",
    "signed-link",
    "revoked-key",
    "ended-session",
    "disabled-user",
)
ENDED = 401  # a credential that has ended is refused as not valid, before any rule


def blob_status(credential: str, visibility: str) -> int:
    match credential:
        case "anonymous":
            return 200 if visibility == "public" else 404
        case "key-without-files-read":
            return 403
        case "revoked-key" | "ended-session" | "disabled-user":
            return ENDED
        case _:
            return 200


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("visibility", VISIBILITIES)
@pytest.mark.parametrize("credential", CREDENTIALS)
async def test_blob_reads_by_credential_on_the_fast_path(
    make_client, server_app, credential: str, visibility: str
) -> None:
    owner = await make_client("user", username="owner")
    file = (await owner.post("/api/v1/files?filename=mine.txt", content=DATA)).json()[0]
    if visibility == "public":
        await owner.patch(f"/api/v1/files/{file['id']}", json={"visibility": "public"})
    url = f"/blobs/{file['cid']}"
    caller = await make_client(None)
    headers: dict[str, str] = {}

    async def key(*scopes: str) -> dict[str, str]:
        made = await owner.post("/api/v1/auth/keys", json={"name": "s", "scopes": list(scopes)})
        assert made.status_code == 201, made.text
        return made.json()

    match credential:
        case "session":
            signed_in = await caller.post(
                "/api/v1/auth/login", json={"username": "owner", "password": owner.password}
            )
            headers = bearer(signed_in.json()["access_token"])
        case "key-files-read":
            headers = bearer((await key("files:read"))["key"])
        case "key-without-files-read":
            headers = bearer((await key("records:read", "records:write", "files:write"))["key"])
        case "signed-link":
            url = (await owner.post("/api/v1/links", json={"cid": file["cid"]})).json()["url"]
        case "revoked-key":
            made = await key("files:read")
            headers = bearer(made["key"])
            assert (await caller.get(url, headers=headers)).status_code == 200  # while it lasts
            assert (await owner.delete(f"/api/v1/auth/keys/{made['id']}")).status_code == 200
        case "ended-session":
            signed_in = await caller.post(
                "/api/v1/auth/login", json={"username": "owner", "password": owner.password}
            )
            headers = bearer(signed_in.json()["access_token"])
            assert (await caller.get(url, headers=headers)).status_code == 200
            assert (await caller.post("/api/v1/auth/logout", headers=headers)).status_code == 204
        case "disabled-user":
            headers = bearer(owner.token or "")
    # the owner's own session reads first: its grant must open nothing for other credentials
    for _ in range(2):
        assert (await owner.get(f"/blobs/{file['cid']}")).status_code == 200
    if credential == "disabled-user":
        admin = await make_client("admin")
        disabled = await admin.post(f"/api/v1/admin/users/{owner.user_id}/disable")
        assert disabled.status_code == 200
    grants = len(server_app.grants)
    status = blob_status(credential, visibility)
    for turn in ("full route", "fast path"):
        reply = await caller.get(url, headers=headers)
        assert reply.status_code == status, f"{turn}: {reply.text}"
        if status == 200:
            assert reply.content == DATA
        else:
            assert reply.headers["content-type"] == "application/problem+json"
            assert DATA.decode() not in reply.text
    # a granted bearer read is remembered for this credential (the second read was the
    # fast path's); a refusal leaves no grant behind
    remembered = status == 200 and credential != "signed-link"
    assert len(server_app.grants) == grants + remembered
