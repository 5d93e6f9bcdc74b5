"""``POST /api/v1/import``: an exported CAR recreates the record and its history with the
same CIDs (here, and on a fresh instance); a CAR whose blocks or chain do not verify is
refused with 422 and nothing is written."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import dag_cbor
import httpx
import pytest
from multiformats import CID
from sqlalchemy import func
from sqlmodel import SQLModel, select

from mcore.cid import record_cid
from mcore.files.models import File
from mcore.records.car import MAX_CAR_SIZE, header, read_car, section, varint
from mcore.records.models import Block, Record, RecordVersion
from mcore.settings import Settings
from tests.conftest import FAST_PASSWORDS, sign_in_new_account
from tests.recordkit import png

ARTISTS = "/api/v1/artists"
IMAGE_FILES = "/api/v1/image-files"
IMPORT = "/api/v1/import"
PROBLEM = "application/problem+json"
CAR = {"Content-Type": "application/vnd.ipld.car"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    settings.media.serve_public_originals = True
    return settings


@pytest.fixture
async def fresh_app(tmp_path: Path, template_db: Path) -> AsyncIterator[Any]:
    """A second instance with nothing in it (its own data directory and SQLite file)."""
    from api.app import create_app

    data_dir = tmp_path / "fresh"
    data_dir.mkdir()
    shutil.copyfile(template_db, data_dir / "mstack.db")
    fresh = Settings(
        data_dir=data_dir,
        database_url=f"sqlite+aiosqlite:///{data_dir / 'mstack.db'}",
        allowed_content_types=["*/*"],
        jobs={"embedded_worker": False},
        **FAST_PASSWORDS,
    )
    fresh.media.serve_public_originals = True
    app = create_app(fresh)
    async with app.lifespan():
        yield app


async def signed_in(app: Any, role: str, username: str) -> httpx.AsyncClient:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://fresh.test")
    await sign_in_new_account(app, http, role=role, username=username)
    return http


async def count(app: Any, table: type[SQLModel]) -> int:
    async with app.state.db.session() as session:
        return int((await session.exec(select(func.count()).select_from(table))).one())


async def counts(app: Any) -> tuple[int, ...]:
    return tuple([await count(app, t) for t in (Block, Record, RecordVersion, File)])


async def history(client: httpx.AsyncClient) -> dict[str, Any]:
    made = await client.post(ARTISTS, json={"name": {"full": "Imported"}, "bio": "One."})
    assert made.status_code == 201, made.text
    artist: dict[str, Any] = made.json()
    url = f"{ARTISTS}/{artist['id']}"
    assert (
        await client.patch(url, json={"bio": "Two.", "links": ["https://a.example"]})
    ).is_success
    assert (await client.patch(url, json={"bio": "Three."})).is_success
    return artist


async def everything(client: httpx.AsyncClient, url: str) -> tuple[Any, Any]:
    read = (await client.get(url)).json()
    versions = (await client.get(f"{url}/versions")).json()["items"]
    return read, versions


async def test_a_round_trip_into_a_fresh_instance_keeps_every_cid(
    client: httpx.AsyncClient, fresh_app: Any
) -> None:
    artist = await history(client)
    url = f"{ARTISTS}/{artist['id']}"
    car = (await client.get(f"{url}/export.car")).content
    before_read, before_versions = await everything(client, url)

    admin = await signed_in(fresh_app, "admin", "fresh-admin")
    r = await admin.post(IMPORT, content=car, headers=CAR)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["id"] == artist["id"]
    assert body["cid"] == before_read["cid"]
    assert body["n"] == 3
    assert body["type"] == "mart/artist"
    assert body["deleted"] is False

    after_read, after_versions = await everything(admin, url)
    for key in ("id", "cid", "content_cid", "n", "name", "bio", "links", "created_at"):
        assert after_read[key] == before_read[key], key
    assert after_versions == before_versions  # CIDs, numbers, authors and times
    again = (await admin.get(f"{url}/export.car")).content
    assert again == car  # byte for byte
    listed = (await admin.get(ARTISTS, params={"bio": "Three."})).json()["items"]
    assert [a["id"] for a in listed] == [artist["id"]]  # the projection is searchable
    # the history works as it does for a record made here
    reverted = await admin.post(f"{url}/revert", json={"to": artist["id"]})
    assert reverted.status_code == 200, reverted.text
    assert reverted.json()["n"] == 4
    assert reverted.json()["content_cid"] == artist["content_cid"]

    twice = await admin.post(IMPORT, content=car, headers=CAR)
    assert twice.status_code == 409
    await admin.aclose()


async def test_the_owner_imports_their_record_back(
    client: httpx.AsyncClient, make_client: Any, server_app: Any
) -> None:
    artist = await history(client)
    url = f"{ARTISTS}/{artist['id']}"
    car = (await client.get(f"{url}/export.car")).content
    _, before = await everything(client, url)

    other = await make_client("user")
    admin = await make_client("admin")
    assert (await admin.post(f"{url}/purge")).status_code == 204
    refused = await other.post(IMPORT, content=car, headers=CAR)
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"] == PROBLEM

    r = await client.post(IMPORT, content=car, headers=CAR)
    assert r.status_code == 201, r.text
    assert r.json()["owner_id"] == client.user_id  # type: ignore[attr-defined]
    _, after = await everything(client, url)
    assert after == before
    assert (await other.get(url)).status_code == 404  # private, as every import is


async def test_files_come_along_as_the_importers_files(
    client: httpx.AsyncClient, fresh_app: Any
) -> None:
    image = png(7, 4)
    up = await client.post("/api/v1/files", params={"filename": "i.png"}, content=image)
    assert up.status_code == 201, up.text
    file_cid = up.json()[0]["cid"]
    made = await client.post(IMAGE_FILES, json={"file": file_cid, "caption": "along"})
    assert made.status_code == 201, made.text
    record = made.json()
    car = (await client.get(f"{IMAGE_FILES}/{record['id']}/export.car?files=1")).content

    admin = await signed_in(fresh_app, "admin", "fresh-admin")
    r = await admin.post(IMPORT, content=car, headers=CAR)
    assert r.status_code == 201, r.text
    assert r.json()["files"] == [file_cid]
    assert (await admin.get(f"/blobs/{file_cid}")).content == image
    read = (await admin.get(f"{IMAGE_FILES}/{record['id']}")).json()
    assert read["cid"] == record["cid"]
    assert read["file"] == file_cid

    await admin.aclose()


async def test_a_record_whose_file_is_not_readable_is_refused(
    client: httpx.AsyncClient, make_client: Any, server_app: Any
) -> None:
    up = await client.post("/api/v1/files", params={"filename": "i.png"}, content=png(3, 3))
    file_cid = up.json()[0]["cid"]
    made = await client.post(IMAGE_FILES, json={"file": file_cid})
    record = made.json()
    url = f"{IMAGE_FILES}/{record['id']}"
    bare = (await client.get(f"{url}/export.car")).content  # no ?files=1: no raw block
    admin = await make_client("admin")
    assert (await admin.post(f"{url}/purge")).status_code == 204
    assert (await client.delete(f"/api/v1/files/{up.json()[0]['id']}")).status_code == 200
    start = await counts(server_app)
    r = await client.post(IMPORT, content=bare, headers=CAR)
    assert r.status_code == 422, r.text
    assert "no uploaded file" in r.json()["detail"]
    assert await counts(server_app) == start


def rebuilt(car: bytes, change: Any) -> bytes:
    """The CAR with its head version changed by ``change`` (and so a new root)."""
    parsed = read_car(car)
    root = parsed.roots[0]
    head = dag_cbor.decode(parsed.blocks[root])
    change(head)
    data = dag_cbor.encode(head)
    cid = record_cid(data)
    blocks = {cid: data, **{k: v for k, v in parsed.blocks.items() if k != root}}
    return header([cid]) + b"".join(section(k, v) for k, v in blocks.items())


def one_version(content: dict[str, Any] | None) -> bytes:
    """A CAR of a record with one version, made here."""
    version: dict[str, Any] = {"$type": "mstack/version", "by": "someone", "at": 1, "n": 1}
    version["nonce"] = b"\x00" * 16
    blocks = []
    if content is None:
        version["deleted"] = True
    else:
        data = dag_cbor.encode(content)
        version["content"] = CID.decode(record_cid(data))
        blocks.append(section(record_cid(data), data))
    block = dag_cbor.encode(version)
    return header([record_cid(block)]) + section(record_cid(block), block) + b"".join(blocks)


def without(car: bytes, cid: str) -> bytes:
    parsed = read_car(car)
    return header(parsed.roots) + b"".join(
        section(k, v) for k, v in parsed.blocks.items() if k != cid
    )


def with_content(car: bytes, content: dict[str, Any]) -> bytes:
    """The head version pointing at another content block (carried in the CAR)."""
    data = dag_cbor.encode(content)
    cid = record_cid(data)

    def point(head: dict[str, Any]) -> None:
        head["content"] = CID.decode(cid)

    return rebuilt(car, point) + section(cid, data)


async def test_cars_that_do_not_verify_are_refused_and_nothing_is_written(
    client: httpx.AsyncClient, make_client: Any, server_app: Any
) -> None:
    artist = await history(client)
    url = f"{ARTISTS}/{artist['id']}"
    car = (await client.get(f"{url}/export.car")).content
    versions = (await client.get(f"{url}/versions")).json()["items"]
    admin = await make_client("admin")
    assert (await admin.post(f"{url}/purge")).status_code == 204
    start = await counts(server_app)

    root = versions[0]["cid"]
    tampered = bytearray(car)
    tampered[-3] ^= 0x01
    bad: dict[str, tuple[bytes, str]] = {
        "empty": (b"", "ends inside"),
        "truncated": (car[: len(car) // 2], "ends inside"),
        "bad varint": (b"\xff" * 20, "longer than a CAR allows"),
        "huge section": (header([root]) + varint(2**40) + b"\x01", "at most"),
        "tampered byte": (bytes(tampered), "does not hash to its CID"),
        "missing middle version": (without(car, versions[1]["cid"]), "is not in it"),
        "missing content": (without(car, versions[0]["content_cid"]), "is not in it"),
        "wrong number": (rebuilt(car, lambda h: h.update(n=7)), "chain needs"),
        "time runs back": (rebuilt(car, lambda h: h.update(at=1)), "later than"),
        "nonce on a later version": (
            rebuilt(car, lambda h: h.update(nonce=b"x" * 16)),
            "carries a nonce",
        ),
        "time past the year 9999": (rebuilt(car, lambda h: h.update(at=2**62)), "a time no"),
        "author id too long": (rebuilt(car, lambda h: h.update(by="x" * 65)), "author id"),
        "unknown key": (rebuilt(car, lambda h: h.update(extra=1)), "does not have"),
        "root is content": (
            header([versions[0]["content_cid"]]) + car[len(header([root])) :],
            "not a version block",
        ),
        "type changes": (
            with_content(car, {"$type": "mart/nothing", "name": {"full": "x"}}),
            "is a mart/nothing, not a mart/artist",
        ),
        "content breaks its model": (
            with_content(car, {"$type": "mart/artist", "bio": "no name"}),
            "name",
        ),
        "content not as written here": (
            with_content(car, {"$type": "mart/artist", "name": {"full": "x"}, "links": []}),
            "not what this server writes",
        ),
        "unknown type": (one_version({"$type": "mart/nothing", "x": 1}), "no model"),
        "born deleted": (one_version(None), "first version is a deletion"),
        "two roots": (header([root, root]) + car[len(header([root])) :], "one root"),
    }
    for name, (body, says) in bad.items():
        r = await client.post(IMPORT, content=body, headers=CAR)
        assert r.status_code == 422, f"{name}: {r.status_code} {r.text}"
        assert r.headers["content-type"] == PROBLEM, name
        assert says in r.json()["detail"], f"{name}: {r.json()['detail']}"
        assert await counts(server_app) == start, name

    r = await client.post(IMPORT, content=b"\x00" * (MAX_CAR_SIZE + 1), headers=CAR)
    assert r.status_code == 413
    assert await counts(server_app) == start
    anon = await make_client(None)
    r = await anon.post(IMPORT, content=car, headers=CAR)
    assert r.status_code == 401
    assert await counts(server_app) == start


async def test_the_document_describes_the_import(client: httpx.AsyncClient) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    operation = document["paths"]["/api/v1/import"]["post"]
    assert {"201", "409", "413", "422"} <= set(operation["responses"])
    assert "nothing is written" in operation["description"]
