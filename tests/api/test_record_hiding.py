"""Moderators hide and show public records of others (DESIGN.md, "Who may read and write"),
over HTTP on the real app: ``PATCH /api/v1/<model>/{id}`` with ``{"hidden": ...}``. Hiding
writes no version; hidden records are gone for everyone but their owner, moderators and
admins, in reads, lists, history, blocks and the blobs they link."""

from typing import Any

import httpx
import pytest

from mcore.db import Database
from mcore.records.models import Block, Record, RecordVersion
from tests.recordkit import count, png, rows

PROBLEM = "application/problem+json"
MODELS = ("artists", "image-files", "still-images", "image-releases")


def match(cid: str) -> dict[str, str]:
    return {"If-Match": f'"{cid}"'}


async def make_public(owner: httpx.AsyncClient, model: str) -> tuple[str, dict[str, Any]]:
    """A public record of ``model`` made by ``owner``, and the URL of its model."""
    body: dict[str, Any]
    match model:
        case "artists":
            body = {"name": {"full": "Shown"}, "bio": "Out in the open."}
        case "image-files":
            upload = await owner.post("/api/v1/files", params={"filename": "p.png"}, content=png())
            body = {"file": upload.json()[0]["cid"], "alt": "A red square"}
        case _:
            body = {"title": {"full": "Shown"}}
    url = f"/api/v1/{model}"
    r = await owner.post(url, json={**body, "visibility": "public"})
    assert r.status_code == 201, r.text
    return url, r.json()


async def record_row(db: Database, record_id: str) -> dict[str, Any]:
    (record,) = [r for r in await rows(db, Record) if r.id == record_id]
    return {
        "head": record.head,
        "n": record.n,
        "visibility": record.visibility,
        "hidden": record.hidden,
    }


async def sees(http: httpx.AsyncClient, url: str, made: dict[str, Any]) -> dict[str, Any] | None:
    """What ``http`` gets of ``made``: its read (also found in the list, its history, one
    version, ``?at=`` and its blocks), or None when every one of those is 404 / absent."""
    one = f"{url}/{made['id']}"
    paths = [
        one,
        f"{one}/versions",
        f"{one}/versions/{made['cid']}",
        f"/api/v1/objects/{made['cid']}",
        f"/api/v1/objects/{made['content_cid']}",
    ]
    codes = [(await http.get(path)).status_code for path in paths]
    at = await http.get(one, params={"at": made["updated_at"]})
    listed = [r for r in (await http.get(url)).json()["items"] if r["id"] == made["id"]]
    if codes == [404] * 5 and at.status_code == 404 and listed == []:
        return None
    assert codes == [200] * 5
    assert at.status_code == 200
    read = (await http.get(one)).json()
    assert listed == [read]
    assert at.json() == read
    return dict(read)


@pytest.mark.parametrize("model", MODELS)
async def test_a_moderator_hides_a_public_record_and_shows_it_again(
    make_client: Any, db: Database, model: str
) -> None:
    owner = await make_client("user")
    url, made = await make_public(owner, model)
    assert made["hidden"] is False
    moderator = await make_client("moderator")
    admin = await make_client("admin")
    others = [await make_client("user"), await make_client("guest"), await make_client(None)]
    staff = [owner, moderator, admin]
    for http in others + staff:
        assert (await sees(http, url, made)) == made
    versions, blocks = await count(db, RecordVersion), await count(db, Block)

    r = await moderator.patch(
        f"{url}/{made['id']}", json={"hidden": True}, headers=match(made["cid"])
    )
    assert r.status_code == 200, r.text
    hidden = r.json()
    assert hidden == {**made, "hidden": True}  # same head, same n, same time: no version
    assert r.headers["etag"] == f'"{made["cid"]}"'
    row = {"head": made["cid"], "n": 1, "visibility": "public", "hidden": True}
    assert await record_row(db, made["id"]) == row
    assert (await count(db, RecordVersion), await count(db, Block)) == (versions, blocks)
    for http in others:
        assert await sees(http, url, made) is None, http.role
    for http in staff:
        assert await sees(http, url, made) == hidden, http.role

    r = await moderator.patch(f"{url}/{made['id']}", json={"hidden": True})
    assert r.status_code == 200  # hiding what is hidden changes nothing
    assert r.json() == hidden

    r = await moderator.patch(f"{url}/{made['id']}", json={"hidden": False})
    assert r.status_code == 200, r.text
    assert r.json() == made
    for http in others + staff:
        assert await sees(http, url, made) == made
    assert (await count(db, RecordVersion), await count(db, Block)) == (versions, blocks)


async def test_hidden_image_files_hide_the_bytes_they_alone_share(make_client: Any) -> None:
    owner = await make_client("user")
    url, made = await make_public(owner, "image-files")
    other = await make_client("user")
    blob = f"/blobs/{made['file']}"
    assert (await other.get(blob)).status_code == 200  # the file is private, the record not
    moderator = await make_client("moderator")
    r = await moderator.patch(f"{url}/{made['id']}", json={"hidden": True})
    assert r.status_code == 200
    assert (await other.get(blob)).status_code == 404
    assert (await owner.get(blob)).status_code == 200
    assert (await moderator.patch(f"{url}/{made['id']}", json={"hidden": False})).status_code == 200
    assert (await other.get(blob)).status_code == 200


async def test_an_admin_hides_too_and_may_change_content_with_it(
    make_client: Any, db: Database
) -> None:
    owner = await make_client("user")
    url, made = await make_public(owner, "artists")
    admin = await make_client("admin")
    r = await admin.patch(f"{url}/{made['id']}", json={"hidden": True, "bio": "Edited."})
    assert r.status_code == 200, r.text
    assert (r.json()["hidden"], r.json()["n"], r.json()["bio"]) == (True, 2, "Edited.")
    assert r.json()["owner_id"] == owner.user_id
    assert await count(db, RecordVersion) == 2


async def test_only_public_records_are_hidden(make_client: Any, db: Database) -> None:
    owner = await make_client("user")
    made = (await owner.post("/api/v1/artists", json={"name": {"full": "Private"}})).json()
    url = f"/api/v1/artists/{made['id']}"
    before = await record_row(db, made["id"])
    for staff in (await make_client("moderator"), await make_client("admin")):
        r = await staff.patch(url, json={"hidden": True})
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == PROBLEM
        assert r.json()["errors"] == [{"field": "hidden", "message": r.json()["detail"]}]
        assert "only a public artist can be hidden" in r.json()["detail"]
        r = await staff.patch(url, json={"hidden": "yes"})
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "hidden"
    assert await record_row(db, made["id"]) == before

    # made public, hidden, then made private by its owner: it may still be shown again
    moderator = await make_client("moderator")
    assert (await owner.patch(url, json={"visibility": "public"})).status_code == 200
    assert (await moderator.patch(url, json={"hidden": True})).status_code == 200
    r = await owner.patch(url, json={"visibility": "private"})
    assert r.status_code == 200
    assert (r.json()["visibility"], r.json()["hidden"]) == ("private", True)
    r = await moderator.patch(url, json={"hidden": False})
    assert r.status_code == 200, r.text
    assert (r.json()["visibility"], r.json()["hidden"]) == ("private", False)
    assert await count(db, RecordVersion) == 1


async def test_users_and_guests_may_not_hide_or_show(make_client: Any, db: Database) -> None:
    owner = await make_client("user")
    url, made = await make_public(owner, "artists")
    one = f"{url}/{made['id']}"
    for http, status in (
        (await make_client("user"), 403),
        (owner, 403),  # owners change their records, but do not moderate them
        (await make_client("guest"), 403),
        (await make_client(None), 401),
    ):
        r = await http.patch(one, json={"hidden": True})
        assert r.status_code == status, (http.role, r.text)
        assert r.headers["content-type"] == PROBLEM
    assert (await record_row(db, made["id"]))["hidden"] is False

    moderator = await make_client("moderator")
    assert (await moderator.patch(one, json={"hidden": True})).status_code == 200
    r = await owner.patch(one, json={"hidden": False})
    assert r.status_code == 403  # nor may the owner undo a moderator's hiding
    assert r.json()["detail"] == "only a moderator or an admin may hide or show content"
    r = await owner.patch(one, json={"bio": "Still mine to edit."})
    assert r.status_code == 200
    assert (r.json()["n"], r.json()["hidden"]) == (2, True)


async def test_a_moderator_changes_nothing_else_with_hidden(make_client: Any, db: Database) -> None:
    owner = await make_client("user")
    url, made = await make_public(owner, "artists")
    one = f"{url}/{made['id']}"
    moderator = await make_client("moderator")
    before = await record_row(db, made["id"])
    for body in (
        {"hidden": True, "bio": "Moderated."},
        {"hidden": True, "visibility": "private"},
        {"hidden": True, "bio": made["bio"]},  # even content that changes nothing
    ):
        r = await moderator.patch(one, json=body)
        assert r.status_code == 403, (body, r.text)
        # the right missing is named: edit for content, manage for its visibility
        assert r.json()["detail"].startswith("you may view this artist; to "), r.text
    assert await record_row(db, made["id"]) == before
    assert await count(db, RecordVersion) == 1
    assert (await owner.get(one)).json() == made

    # the owner's own records: a moderator edits and hides them in one request
    mine = (
        await moderator.post(url, json={"name": {"full": "Mod's"}, "visibility": "public"})
    ).json()
    r = await moderator.patch(f"{url}/{mine['id']}", json={"hidden": True, "bio": "Mine."})
    assert r.status_code == 200, r.text
    assert (r.json()["n"], r.json()["hidden"]) == (2, True)


async def test_hiding_honours_if_match_and_deletion(make_client: Any, db: Database) -> None:
    owner = await make_client("user")
    url, made = await make_public(owner, "artists")
    one = f"{url}/{made['id']}"
    two = (await owner.patch(one, json={"bio": "Second."})).json()
    moderator = await make_client("moderator")
    r = await moderator.patch(one, json={"hidden": True}, headers=match(made["cid"]))
    assert r.status_code == 412, r.text
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["head"] == two["cid"]
    assert (await record_row(db, made["id"]))["hidden"] is False
    r = await moderator.patch(one, json={"hidden": True}, headers=match(two["cid"]))
    assert r.status_code == 200
    assert (r.json()["cid"], r.json()["n"], r.json()["hidden"]) == (two["cid"], 2, True)

    assert (await moderator.patch(one, json={"hidden": False})).status_code == 200
    assert (await owner.delete(one)).status_code == 200
    r = await moderator.patch(one, json={"hidden": True})
    assert r.status_code == 410, r.text
    assert (await record_row(db, made["id"]))["hidden"] is False
    unknown = "bafyr4ibsrhoak26obwqomtsimxh2ttjp6raff4lt3532zkvjkbka225m3u"
    assert (await moderator.patch(f"{url}/{unknown}", json={"hidden": True})).status_code == 404


async def test_openapi_documents_hidden(client: httpx.AsyncClient) -> None:
    schemas = (await client.get("/schema/openapi.json")).json()["components"]["schemas"]
    update = next(s for name, s in schemas.items() if name.endswith("ArtistUpdate"))
    read = next(s for name, s in schemas.items() if name.endswith("ArtistRead"))
    assert "hidden" in update["properties"]
    assert "hidden" not in update.get("required", [])
    assert "hidden" in read["required"]
