"""A blob read through a record that links it, over HTTP on the real app (DESIGN.md, "Who
may read and write"): linking needs the author to read the file then; the link lends the
bytes only while the record's owner can still read a live file of them (their own upload
of the same bytes counts); a file made private, trashed or hidden by a moderator lends
them to no one's record. Each read is made twice: the second comes from the fast path."""

from typing import Any

import httpx
import pytest

from mcore.settings import Settings
from tests.recordkit import png

IMAGE_FILES = "/api/v1/image-files"
PROBLEM = "application/problem+json"
WITHDRAWALS = ("made-private", "trashed", "hidden")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Public images as they are: these tests are about the lending rules, on images no worker
    processes; withholding an image's metadata from others is tested in
    ``test_public_originals``."""
    settings.media.serve_public_originals = True
    return settings


async def upload(http: httpx.AsyncClient, data: bytes, *, public: bool = False) -> dict[str, Any]:
    reply = await http.post("/api/v1/files", params={"filename": "p.png"}, content=data)
    assert reply.status_code == 201, reply.text
    file: dict[str, Any] = reply.json()[0]
    if public:
        made = await http.patch(f"/api/v1/files/{file['id']}", json={"visibility": "public"})
        assert made.status_code == 200, made.text
    return file


async def link_publicly(http: httpx.AsyncClient, cid: str) -> httpx.Response:
    return await http.post(IMAGE_FILES, json={"file": cid, "visibility": "public"})


async def reads(http: httpx.AsyncClient, cid: str) -> int:
    """The status of reading the blob, the same on the full route and the fast path."""
    first = await http.get(f"/blobs/{cid}")
    again = await http.get(f"/blobs/{cid}")
    assert again.status_code == first.status_code, "the fast path disagrees with the route"
    if first.status_code == 200:
        assert first.headers["etag"] == f'"{cid}"'
    else:
        assert first.headers["content-type"] == PROBLEM
    return first.status_code


async def withdraw(
    how: str, owner: httpx.AsyncClient, moderator: httpx.AsyncClient, file: dict[str, Any]
) -> None:
    url = f"/api/v1/files/{file['id']}"
    match how:
        case "made-private":
            reply = await owner.patch(url, json={"visibility": "private"})
        case "trashed":
            reply = await owner.delete(url)
        case "hidden":
            reply = await moderator.patch(url, json={"hidden": True})
    assert reply.status_code == 200, reply.text


async def give_back(
    how: str, owner: httpx.AsyncClient, moderator: httpx.AsyncClient, file: dict[str, Any]
) -> None:
    url = f"/api/v1/files/{file['id']}"
    match how:
        case "made-private":
            reply = await owner.patch(url, json={"visibility": "public"})
        case "trashed":
            reply = await owner.post(f"{url}/restore")
        case "hidden":
            reply = await moderator.patch(url, json={"hidden": False})
    assert reply.status_code == 200, reply.text


@pytest.mark.parametrize("how", WITHDRAWALS)
async def test_a_withdrawn_file_is_no_longer_read_through_anothers_record(
    make_client: Any, how: str
) -> None:
    alice = await make_client("user")  # owns the file
    bob = await make_client("user")  # links it from his public record
    carol = await make_client("user")
    moderator = await make_client("moderator")
    anonymous = await make_client(None)
    file = await upload(alice, png(), public=True)
    linked = await link_publicly(bob, file["cid"])
    assert linked.status_code == 201, linked.text
    for reader in (bob, carol, anonymous):
        assert await reads(reader, file["cid"]) == 200
    await withdraw(how, alice, moderator, file)
    for reader in (bob, carol, anonymous):  # at once: the write dropped every grant
        assert await reads(reader, file["cid"]) == 404
    assert (await bob.get(f"{IMAGE_FILES}/{linked.json()['id']}")).status_code == 200
    assert await reads(moderator, file["cid"]) == (200 if how != "trashed" else 404)
    assert await reads(alice, file["cid"]) == (200 if how != "trashed" else 404)
    await give_back(how, alice, moderator, file)
    for reader in (bob, carol, anonymous):
        assert await reads(reader, file["cid"]) == 200


async def test_the_record_owners_own_upload_of_the_bytes_keeps_lending_them(
    make_client: Any,
) -> None:
    alice = await make_client("user")
    bob = await make_client("user")
    carol = await make_client("user")
    data = png()
    alices = await upload(alice, data, public=True)
    bobs = await upload(bob, data)  # the same bytes, private to Bob
    assert bobs["cid"] == alices["cid"]
    assert (await link_publicly(bob, alices["cid"])).status_code == 201
    await alice.patch(f"/api/v1/files/{alices['id']}", json={"visibility": "private"})
    assert await reads(carol, bobs["cid"]) == 200  # Bob may still read them: his own copy
    assert (await carol.get(f"/api/v1/files/{bobs['id']}")).status_code == 404  # not the file
    assert (await bob.delete(f"/api/v1/files/{bobs['id']}")).status_code == 200
    assert await reads(carol, bobs["cid"]) == 404


async def test_a_moderator_hiding_the_owners_own_file_withdraws_it_from_their_record(
    make_client: Any,
) -> None:
    bob = await make_client("user")
    carol = await make_client("user")
    moderator = await make_client("moderator")
    file = await upload(bob, png(), public=True)
    assert (await link_publicly(bob, file["cid"])).status_code == 201
    assert await reads(carol, file["cid"]) == 200
    hidden = await moderator.patch(f"/api/v1/files/{file['id']}", json={"hidden": True})
    assert hidden.status_code == 200
    assert await reads(carol, file["cid"]) == 404
    assert await reads(bob, file["cid"]) == 200  # the owner still reads his own file


async def test_a_private_file_linked_by_a_moderator_is_lent_to_no_one(make_client: Any) -> None:
    """A moderator reads every file, but a record lends only what its owner may read as an
    owner or as anyone: their own files, or public ones that are shown."""
    alice = await make_client("user")
    carol = await make_client("user")
    moderator = await make_client("moderator")
    file = await upload(alice, png())
    assert (await link_publicly(moderator, file["cid"])).status_code == 201
    assert await reads(carol, file["cid"]) == 404
    assert await reads(moderator, file["cid"]) == 200  # by the moderator's own right


@pytest.mark.parametrize("state", ["private", "trashed", "hidden"])
async def test_linking_needs_the_author_to_read_the_file_now(make_client: Any, state: str) -> None:
    alice = await make_client("user")
    bob = await make_client("user")
    moderator = await make_client("moderator")
    file = await upload(alice, png(), public=state == "hidden")
    if state == "trashed":
        await alice.patch(f"/api/v1/files/{file['id']}", json={"visibility": "public"})
        assert (await alice.delete(f"/api/v1/files/{file['id']}")).status_code == 200
    if state == "hidden":
        await moderator.patch(f"/api/v1/files/{file['id']}", json={"hidden": True})
    before = (await bob.get(IMAGE_FILES)).json()["items"]
    refused = await link_publicly(bob, file["cid"])
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == PROBLEM
    problem = refused.json()
    assert problem["errors"][0]["field"] == "file"
    assert "that you may read" in problem["detail"]
    assert (await bob.get(IMAGE_FILES)).json()["items"] == before
    assert await reads(bob, file["cid"]) == 404
