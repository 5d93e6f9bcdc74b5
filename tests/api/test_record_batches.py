"""Batch creates (``POST /api/v1/<model>/batch``): each item made as one create makes it, in
one transaction, so a refusal of any item leaves nothing behind; the same permissions."""

from typing import Any

import httpx

from mcore.db import Database
from mcore.records.models import Block, Record, RecordTerm, RecordVersion
from mcore.refs import BlobRef
from tests.recordkit import count

ARTISTS = "/api/v1/artists"
STILL_IMAGES = "/api/v1/still-images"
IMAGE_FILES = "/api/v1/image-files"
PROBLEM = "application/problem+json"


async def _tables(db: Database) -> tuple[int, ...]:
    return tuple([await count(db, t) for t in (Record, RecordVersion, Block, RecordTerm, BlobRef)])


async def test_a_batch_makes_each_item_as_a_create_would(
    client: httpx.AsyncClient, db: Database
) -> None:
    artist = (await client.post(ARTISTS, json={"name": {"full": "Maren Økland"}})).json()
    items: list[dict[str, Any]] = [
        {"title": {"full": f"Study {i}"}, "tags": ["sea", f"t{i}"], "year": 2000 + i}
        for i in range(5)
    ]
    items[2]["creators"] = [{"artist": artist["id"], "role": "painter"}]
    items[4]["visibility"] = "public"
    r = await client.post(f"{STILL_IMAGES}/batch", json={"items": items})
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["next"] is None
    assert [m["title"]["full"] for m in made["items"]] == [f"Study {i}" for i in range(5)]
    assert [m["visibility"] for m in made["items"]] == ["private"] * 4 + ["public"]
    assert made["items"][2]["creators"] == [{"artist": artist["id"], "role": "painter"}]
    for item in made["items"]:
        assert item["n"] == 1
        assert item["id"] == item["cid"]
        got = await client.get(f"{STILL_IMAGES}/{item['id']}")
        assert got.json() == item
    assert len({m["id"] for m in made["items"]}) == 5
    # the same content as one create gives the same content CID, and the terms are indexed
    one = (await client.post(STILL_IMAGES, json=items[0])).json()
    assert one["content_cid"] == made["items"][0]["content_cid"]
    tagged = await client.get(STILL_IMAGES, params={"tags": "t3"})
    assert [m["id"] for m in tagged.json()["items"]] == [made["items"][3]["id"]]
    by_artist = await client.get(STILL_IMAGES, params={"creators_artist": artist["id"]})
    assert [m["id"] for m in by_artist.json()["items"]] == [made["items"][2]["id"]]


async def test_one_bad_item_refuses_the_batch_naming_it_and_writes_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    artist = (await client.post(ARTISTS, json={"name": {"full": "Real"}})).json()
    before = await _tables(db)
    good = {"title": {"full": "Fine"}}
    missing = "bafyr4ibsrhoak26obwqomtsimxh2ttjp6raff4lt3532zkvjkbka225m3u"
    cases = [
        ([good, {"title": {"full": "T"}, "year": 10_000}], "items.1.year"),  # the schema's check
        ([good, good, {"title": {"full": "T"}, "creators": [{"artist": artist["id"]}]}], None),
        ([good, {}], "items.1.title"),
    ]
    for items, field in cases:
        r = await client.post(f"{STILL_IMAGES}/batch", json={"items": items})
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == PROBLEM
        fields = [e["field"] for e in r.json()["errors"]]
        if field is not None:
            assert field in fields, r.text
        assert all(f.startswith("items.") for f in fields), r.text
        assert await _tables(db) == before, items
    # a link that is not there: the op's check, named by the item and the field
    r = await client.post(
        f"{STILL_IMAGES}/batch",
        json={
            "items": [
                good,
                {"title": {"full": "T"}, "creators": [{"artist": missing, "role": "r"}]},
            ]
        },
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "items.1.creators.0.artist"
    assert r.json()["detail"] == f"no artist with id {missing} that you may read"
    assert await _tables(db) == before


async def test_batch_limits(client: httpx.AsyncClient, db: Database) -> None:
    for body in ({"items": []}, {"items": [{"name": {"full": "A"}}] * 101}, {}, {"x": 1}):
        r = await client.post(f"{ARTISTS}/batch", json=body)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == PROBLEM
    r = await client.post(f"{ARTISTS}/batch", json={"items": [{"name": {"full": "A"}}] * 100})
    assert r.status_code == 201
    assert len(r.json()["items"]) == 100
    assert await count(db, Record) == 100


async def test_guests_and_anonymous_callers_cannot_batch(make_client: Any, db: Database) -> None:
    guest = await make_client(role="guest")
    anonymous = await make_client(role=None)
    body = {"items": [{"name": {"full": "Nobody"}}]}
    assert (await guest.post(f"{ARTISTS}/batch", json=body)).status_code == 403
    assert (await anonymous.post(f"{ARTISTS}/batch", json=body)).status_code == 401
    assert await count(db, Record) == 0


async def test_a_batch_may_link_only_what_its_author_may_read(
    make_client: Any, db: Database
) -> None:
    alice = await make_client(role="user")
    bob = await make_client(role="user")
    private = (await alice.post(ARTISTS, json={"name": {"full": "Alice's"}})).json()
    before = await _tables(db)
    r = await bob.post(
        f"{STILL_IMAGES}/batch",
        json={
            "items": [
                {"title": {"full": "Mine"}},
                {"title": {"full": "Hers"}, "creators": [{"artist": private["id"], "role": "r"}]},
            ]
        },
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "items.1.creators.0.artist"
    assert await _tables(db) == before
