"""Versioned art records over HTTP, on the real app: create, update, no-op update, concurrent
updates with If-Match, old versions by CID, history, ?at=, revert, delete with history, and
the blocks behind them."""

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from mcore.cid import record_cid
from mcore.db import Database
from mcore.records.encoding import decode
from mcore.records.models import Block, Record, RecordVersion
from mcore.settings import Settings
from tests.recordkit import count, png, rows

ARTISTS = "/api/v1/artists"
STILL_IMAGES = "/api/v1/still-images"
IMAGE_FILES = "/api/v1/image-files"
RELEASES = "/api/v1/image-releases"
PROBLEM = "application/problem+json"
DAG_CBOR = "application/vnd.ipld.dag-cbor"


async def create(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> dict[str, Any]:
    r = await client.post(url, json=body)
    assert r.status_code == 201, r.text
    assert r.headers["etag"] == f'"{r.json()["cid"]}"'
    return r.json()


def match(cid: str) -> dict[str, str]:
    return {"If-Match": f'"{cid}"'}


async def test_create_read_update_and_noop(client: httpx.AsyncClient, db: Database) -> None:
    made = await create(client, ARTISTS, {"name": {"full": "Maren Økland"}, "bio": "One."})
    assert made["id"] == made["cid"]
    assert made["id"].startswith("bafyr4i")
    assert made["n"] == 1
    assert made["name"] == {"full": "Maren Økland", "short": None, "abbreviated": None}
    assert made["visibility"] == "private"
    got = await client.get(f"{ARTISTS}/{made['id']}")
    assert got.status_code == 200
    assert got.json() == made
    assert got.headers["etag"] == f'"{made["cid"]}"'

    r = await client.patch(
        f"{ARTISTS}/{made['id']}", json={"bio": "Two."}, headers=match(made["cid"])
    )
    assert r.status_code == 200
    two = r.json()
    assert two["n"] == 2
    assert two["bio"] == "Two."
    assert two["id"] == made["id"]
    assert r.headers["etag"] == f'"{two["cid"]}"'

    versions_before = await count(db, RecordVersion)
    blocks_before = await count(db, Block)
    r = await client.patch(
        f"{ARTISTS}/{made['id']}", json={"bio": "Two."}, headers=match(two["cid"])
    )
    assert r.status_code == 200
    assert r.json() == two  # nothing changed: no version, same head
    assert await count(db, RecordVersion) == versions_before
    assert await count(db, Block) == blocks_before


async def test_concurrent_updates_one_wins_one_gets_412(
    client: httpx.AsyncClient, db: Database
) -> None:
    made = await create(client, ARTISTS, {"name": {"full": "Race"}})
    head = made["cid"]
    for round_ in range(5):
        results = await asyncio.gather(
            *(
                client.patch(
                    f"{ARTISTS}/{made['id']}", json={"bio": f"{who} {round_}"}, headers=match(head)
                )
                for who in ("left", "right")
            )
        )
        codes = sorted(r.status_code for r in results)
        assert codes == [200, 412], [r.text for r in results]
        winner = next(r for r in results if r.status_code == 200).json()
        loser = next(r for r in results if r.status_code == 412)
        assert loser.headers["content-type"] == PROBLEM
        assert loser.json()["head"] == winner["cid"]
        assert winner["n"] == round_ + 2
        head = winner["cid"]
    assert await count(db, RecordVersion) == 6


async def test_concurrent_updates_without_if_match_both_land_in_the_chain(
    client: httpx.AsyncClient,
) -> None:
    made = await create(client, ARTISTS, {"name": {"full": "Both"}})
    left, right = await asyncio.gather(
        client.patch(f"{ARTISTS}/{made['id']}", json={"bio": "From the left."}),
        client.patch(f"{ARTISTS}/{made['id']}", json={"links": ["https://example.org/right"]}),
    )
    assert left.status_code == 200
    assert right.status_code == 200
    final = (await client.get(f"{ARTISTS}/{made['id']}")).json()
    assert final["n"] == 3
    assert final["bio"] == "From the left."  # neither update was lost
    assert final["links"] == ["https://example.org/right"]
    history = (await client.get(f"{ARTISTS}/{made['id']}/versions")).json()["items"]
    assert [v["n"] for v in history] == [3, 2, 1]


async def test_old_versions_by_cid_and_history(client: httpx.AsyncClient) -> None:
    one = await create(client, ARTISTS, {"name": {"full": "History"}, "bio": "One."})
    two = (await client.patch(f"{ARTISTS}/{one['id']}", json={"bio": "Two."})).json()
    three = (await client.patch(f"{ARTISTS}/{one['id']}", json={"bio": "Three."})).json()

    r = await client.get(f"{ARTISTS}/{one['id']}/versions/{one['cid']}")
    assert r.status_code == 200
    assert r.json() == one
    assert r.headers["etag"] == f'"{one["cid"]}"'

    history = (await client.get(f"{ARTISTS}/{one['id']}/versions")).json()
    assert history["next"] is None
    assert [(v["cid"], v["content_cid"], v["n"]) for v in history["items"]] == [
        (three["cid"], three["content_cid"], 3),
        (two["cid"], two["content_cid"], 2),
        (one["cid"], one["content_cid"], 1),
    ]
    assert {v["by"] for v in history["items"]} == {one["owner_id"]}
    assert [v["at"] for v in history["items"]] == [
        three["updated_at"],
        two["updated_at"],
        one["updated_at"],
    ]

    seen = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(f"{ARTISTS}/{one['id']}/versions", params=params)).json()
        seen += [v["n"] for v in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == [3, 2, 1]


async def test_objects_by_cid_json_and_dag_cbor(client: httpx.AsyncClient) -> None:
    one = await create(client, ARTISTS, {"name": {"full": "Blocks"}, "bio": "One."})
    two = (await client.patch(f"{ARTISTS}/{one['id']}", json={"bio": "Two."})).json()
    content = await client.get(f"/api/v1/objects/{two['content_cid']}")
    assert content.status_code == 200
    assert content.headers["content-type"].startswith("application/json")
    assert content.json() == {"$type": "mart/artist", "name": {"full": "Blocks"}, "bio": "Two."}
    version = (await client.get(f"/api/v1/objects/{two['cid']}")).json()
    assert version["prev"] == {"/": one["cid"]}
    assert version["content"] == {"/": two["content_cid"]}
    assert version["n"] == 2
    first = (await client.get(f"/api/v1/objects/{one['cid']}")).json()
    assert set(first["nonce"]["/"]) == {"bytes"}
    for cid in (one["cid"], one["content_cid"], two["cid"], two["content_cid"]):
        raw = await client.get(f"/api/v1/objects/{cid}", headers={"Accept": DAG_CBOR})
        assert raw.status_code == 200
        assert raw.headers["content-type"] == DAG_CBOR
        assert raw.headers["etag"] == f'"{cid}"'
        assert record_cid(raw.content) == cid  # the bytes re-hash to their CID
        assert decode(raw.content)["$type"] in ("mart/artist", "mstack/version")


async def test_objects_unknown_is_404(client: httpx.AsyncClient) -> None:
    for cid in (
        "bafyr4ibsrhoak26obwqomtsimxh2ttjp6raff4lt3532zkvjkbka225m3u",  # well-formed, unknown
        "bafkr4ideg6z2yocgkez77nr3outtvdnvjdcvqrs5phnqh7jvtrwnlpm5qu",  # a file CID
        "BAFYR4IBSRHOAK26OBWQOMTSIMXH2TTJP6RAFF4LT3532ZKVJKBKA225M3U",  # not canonical
        "not-a-cid",
    ):
        r = await client.get(f"/api/v1/objects/{cid}")
        assert r.status_code == 404, cid
        assert r.headers["content-type"] == PROBLEM


@pytest.fixture
def long_sessions(settings: Settings) -> Settings:
    """Tokens that outlive the test's jump to 2027 (set before the client signs in)."""
    settings.access_token_ttl = settings.session_ttl = timedelta(days=3650)
    return settings


async def test_head_at_a_time(
    long_sessions: Settings, client: httpx.AsyncClient, frozen_clock: Any
) -> None:
    frozen_clock.frozen = 1_800_000_000.0
    one = await create(client, ARTISTS, {"name": {"full": "Then"}, "bio": "One."})
    frozen_clock.frozen += 3600
    two = (await client.patch(f"{ARTISTS}/{one['id']}", json={"bio": "Two."})).json()
    frozen_clock.frozen += 3600
    await client.delete(f"{ARTISTS}/{one['id']}")

    async def at(when: str) -> httpx.Response:
        return await client.get(f"{ARTISTS}/{one['id']}", params={"at": when})

    assert (await at("2027-01-15T08:30:00Z")).json()["cid"] == one["cid"]
    assert (await at("2027-01-15T09:29:59+01:00")).json()["cid"] == one["cid"]
    r = await at("2027-01-15T09:30:00Z")
    assert r.json()["cid"] == two["cid"]
    assert r.headers["etag"] == f'"{two["cid"]}"'
    assert (await at("2027-01-15T07:00:00Z")).status_code == 404
    assert (await at("2027-01-15T11:00:00Z")).status_code == 410
    for bad in ("yesterday", "2027-01-15T08:30:00"):
        r = await at(bad)
        assert r.status_code in (400, 422)
        assert r.headers["content-type"] == PROBLEM


async def test_revert_and_delete_keep_history(client: httpx.AsyncClient, db: Database) -> None:
    one = await create(client, ARTISTS, {"name": {"full": "Back"}, "bio": "One."})
    two = (await client.patch(f"{ARTISTS}/{one['id']}", json={"bio": "Two."})).json()

    r = await client.post(
        f"{ARTISTS}/{one['id']}/revert", json={"to": one["cid"]}, headers=match(one["cid"])
    )
    assert r.status_code == 412
    r = await client.post(
        f"{ARTISTS}/{one['id']}/revert", json={"to": one["cid"]}, headers=match(two["cid"])
    )
    assert r.status_code == 200
    three = r.json()
    assert three["n"] == 3
    assert three["bio"] == "One."
    assert three["content_cid"] == one["content_cid"]
    assert r.headers["etag"] == f'"{three["cid"]}"'

    r = await client.delete(f"{ARTISTS}/{one['id']}", headers=match(two["cid"]))
    assert r.status_code == 412
    r = await client.delete(f"{ARTISTS}/{one['id']}", headers=match(three["cid"]))
    assert r.status_code == 200
    tombstone = r.json()
    assert tombstone["deleted"] is True
    assert tombstone["n"] == 4
    assert tombstone["content_cid"] is None

    r = await client.get(f"{ARTISTS}/{one['id']}")
    assert r.status_code == 410
    assert r.headers["content-type"] == PROBLEM
    assert (await client.get(ARTISTS)).json()["items"] == []
    history = (await client.get(f"{ARTISTS}/{one['id']}/versions")).json()["items"]
    assert [(v["n"], v["deleted"]) for v in history] == [
        (4, True),
        (3, False),
        (2, False),
        (1, False),
    ]
    assert (await client.get(f"{ARTISTS}/{one['id']}/versions/{two['cid']}")).json()[
        "bio"
    ] == "Two."
    assert (await client.get(f"/api/v1/objects/{tombstone['cid']}")).json()["deleted"] is True
    assert (await client.patch(f"{ARTISTS}/{one['id']}", json={"bio": "x"})).status_code == 410
    assert (await client.delete(f"{ARTISTS}/{one['id']}")).status_code == 410

    r = await client.post(f"{ARTISTS}/{one['id']}/revert", json={"to": tombstone["cid"]})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "to"
    r = await client.post(f"{ARTISTS}/{one['id']}/revert", json={"to": two["cid"]})
    assert r.status_code == 200
    assert r.json()["n"] == 5
    assert [a["id"] for a in (await client.get(ARTISTS)).json()["items"]] == [one["id"]]
    assert await count(db, Record) == 1


BAD_BODIES = [
    ({"title": {"full": "x" * 501}}, "title.full"),
    ({"title": {}}, "title.full"),
    ({}, "title"),
    ({"title": {"full": "T"}, "year": 1999.5}, "year"),
    ({"title": {"full": "T"}, "year": "1999"}, "year"),
    ({"title": {"full": "T"}, "tags": ["t" * 101]}, "tags.0"),
    (
        {"title": {"full": "T"}, "creators": [{"artist": "bafyr4i-nope", "role": "x"}]},
        "creators.0.artist",
    ),
    (
        {
            "title": {"full": "T"},
            "creators": [
                {
                    "artist": "bafyr4ibsrhoak26obwqomtsimxh2ttjp6raff4lt3532zkvjkbka225m3u",
                    "role": "x",
                }
            ],
        },
        "creators.0.artist",
    ),
    (
        {
            "title": {"full": "T"},
            "image_files": ["bafyr4ibsrhoak26obwqomtsimxh2ttjp6raff4lt3532zkvjkbka225m3u"],
        },
        "image_files.0",
    ),
    ({"title": {"full": "T"}, "visibility": "everyone"}, "visibility"),
    ({"title": {"full": "nul \x00 inside"}}, "title.full"),
    ({"title": {"full": "T"}, "tags": ["a", "b\x00"]}, "tags.1"),
]


async def test_bad_input_is_422_naming_the_field_and_writes_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    for body, field in BAD_BODIES:
        r = await client.post(STILL_IMAGES, json=body)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == PROBLEM
        assert field in [e["field"] for e in r.json()["errors"]], (field, r.text)
        assert r.json()["detail"]
    assert await count(db, Record) == 0
    assert await count(db, Block) == 0


async def test_bad_update_is_422_and_writes_no_version(
    client: httpx.AsyncClient, db: Database
) -> None:
    made = await create(client, STILL_IMAGES, {"title": {"full": "T"}})
    before = (await count(db, RecordVersion), await count(db, Block))
    for body, field in (
        ({"title": None}, "title"),
        ({"year": 10_000}, "year"),
        ({"creators": [{"artist": made["id"], "role": "self"}]}, "creators.0.artist"),
    ):
        r = await client.patch(f"{STILL_IMAGES}/{made['id']}", json=body)
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == field
    assert (await count(db, RecordVersion), await count(db, Block)) == before
    assert (await client.get(f"{STILL_IMAGES}/{made['id']}")).json() == made


async def test_if_match_that_does_not_match_is_412(client: httpx.AsyncClient, db: Database) -> None:
    made = await create(client, ARTISTS, {"name": {"full": "Guarded"}})
    other = '"bafyr4ibsrhoak26obwqomtsimxh2ttjp6raff4lt3532zkvjkbka225m3u"'
    for header in (other, f'W/"{made["cid"]}"', made["cid"], "garbage"):
        r = await client.patch(
            f"{ARTISTS}/{made['id']}", json={"bio": "x"}, headers={"If-Match": header}
        )
        assert r.status_code == 412, header
        assert r.headers["content-type"] == PROBLEM
    assert await count(db, RecordVersion) == 1
    r = await client.patch(f"{ARTISTS}/{made['id']}", json={"bio": "x"}, headers={"If-Match": "*"})
    assert r.status_code == 200
    head = r.json()["cid"]
    r = await client.patch(
        f"{ARTISTS}/{made['id']}", json={"bio": "y"}, headers={"If-Match": f'{other}, "{head}"'}
    )
    assert r.status_code == 200  # one of a list of tags matches


async def test_unknown_ids_and_versions_are_404(client: httpx.AsyncClient) -> None:
    made = await create(client, ARTISTS, {"name": {"full": "Known"}})
    other = await create(client, ARTISTS, {"name": {"full": "Other"}})
    unknown = "bafyr4ibsrhoak26obwqomtsimxh2ttjp6raff4lt3532zkvjkbka225m3u"
    for method, url in (
        ("GET", f"{ARTISTS}/{unknown}"),
        ("GET", f"{ARTISTS}/not-an-id"),
        ("GET", f"{STILL_IMAGES}/{made['id']}"),
        ("PATCH", f"{ARTISTS}/{unknown}"),
        ("DELETE", f"{ARTISTS}/{unknown}"),
        ("GET", f"{ARTISTS}/{unknown}/versions"),
        ("GET", f"{ARTISTS}/{made['id']}/versions/{other['cid']}"),
        ("GET", f"{ARTISTS}/{made['id']}/versions/nope"),
    ):
        r = await client.request(method, url, json={} if method == "PATCH" else None)
        assert r.status_code == 404, (method, url, r.text)
        assert r.headers["content-type"] == PROBLEM


async def test_lists_filter_sort_and_page(client: httpx.AsyncClient) -> None:
    painter = await create(client, ARTISTS, {"name": {"full": "Painter"}})
    other = await create(client, ARTISTS, {"name": {"full": "Other"}})
    specs = [
        ("Harbour at dawn", 2019, ["sea", "dawn"], painter),
        ("harbour at night", 2020, ["sea", "night"], other),
        ("Field", None, ["land"], painter),
        ("Alley", 2018, [], None),
    ]
    made = {}
    for title, year, tags, creator in specs:
        body: dict[str, Any] = {"title": {"full": title}, "tags": tags, "year": year}
        if creator:
            body["creators"] = [{"artist": creator["id"], "role": "painter"}]
        made[title] = await create(client, STILL_IMAGES, body)

    async def titles(**params: Any) -> list[str]:
        r = await client.get(STILL_IMAGES, params=params)
        assert r.status_code == 200, r.text
        return [i["title"]["full"] for i in r.json()["items"]]

    assert await titles() == ["Alley", "Field", "harbour at night", "Harbour at dawn"]
    assert await titles(sort="created_at") == [t for t, *_ in specs]
    assert await titles(sort="year") == ["Alley", "Harbour at dawn", "harbour at night", "Field"]
    assert await titles(sort="-year") == ["harbour at night", "Harbour at dawn", "Alley", "Field"]
    assert await titles(sort="title_full") == [
        "Alley",
        "Field",
        "Harbour at dawn",
        "harbour at night",
    ]
    assert sorted(await titles(title_full="HARBOUR")) == ["Harbour at dawn", "harbour at night"]
    assert await titles(tags="sea", sort="year") == ["Harbour at dawn", "harbour at night"]
    assert await titles(creators_artist=painter["id"], sort="year") == ["Harbour at dawn", "Field"]
    assert await titles(year=2018) == ["Alley"]
    assert await titles(title_full="%") == []  # wildcards are literal

    for sort in ("year", "-year", "title_full", "-created_at", "updated_at"):
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"sort": sort, "limit": 1} | (
                {"cursor": cursor} if cursor else {}
            )
            page = (await client.get(STILL_IMAGES, params=params)).json()
            seen += [i["title"]["full"] for i in page["items"]]
            cursor = page["next"]
            if cursor is None:
                break
        assert seen == await titles(sort=sort), sort


async def test_bad_list_parameters(client: httpx.AsyncClient) -> None:
    for params in (
        {"sort": "licence"},
        {"cursor": "garbage!"},
        {"limit": 0},
        {"limit": 201},
        {"year": "soon"},
        {"year": "10000"},  # past the spec's range: 422, not "nothing matches"
        {"year": "99999999999999999999999"},
    ):
        r = await client.get(STILL_IMAGES, params=params)
        assert r.status_code in (400, 422), params
        assert r.headers["content-type"] == PROBLEM


async def test_filters_no_row_could_match_find_nothing(client: httpx.AsyncClient) -> None:
    await create(client, STILL_IMAGES, {"title": {"full": "T"}, "year": 2000, "tags": ["a"]})
    for params in (
        {"title_full": "a\x00b"},
        {"tags": "a\x00"},
        {"creators_artist": "not-an-id"},
    ):
        r = await client.get(STILL_IMAGES, params=params)
        assert r.status_code == 200, (params, r.text)
        assert r.json()["items"] == []


async def test_forged_cursors_are_refused(client: httpx.AsyncClient) -> None:
    from mcore.pagination import encode_cursor

    for cursor in (
        {"sort": "-created_at", "v": "2020-01-01T00:00:00+00:00", "id": "x\x00"},
        {
            "sort": "-created_at",
            "v": 5,
            "id": "bafyr4ibsrhoak26obwqomtsimxh2ttjp6raff4lt3532zkvjkbka225m3u",
        },
        {
            "sort": "year",
            "v": "soon",
            "id": "bafyr4ibsrhoak26obwqomtsimxh2ttjp6raff4lt3532zkvjkbka225m3u",
        },
        {
            "sort": "year",
            "v": 2**70,
            "id": "bafyr4ibsrhoak26obwqomtsimxh2ttjp6raff4lt3532zkvjkbka225m3u",
        },
    ):
        params = {"sort": cursor["sort"], "cursor": encode_cursor(cursor)}
        r = await client.get(STILL_IMAGES, params=params)
        assert r.status_code == 422, (cursor, r.text)
        assert r.json()["errors"][0]["field"] == "cursor"


async def test_a_cursor_of_another_sort_is_refused(client: httpx.AsyncClient) -> None:
    for i in range(3):
        await create(client, STILL_IMAGES, {"title": {"full": f"T{i}"}, "year": 2000 + i})
    page = (await client.get(STILL_IMAGES, params={"sort": "year", "limit": 1})).json()
    r = await client.get(STILL_IMAGES, params={"sort": "-year", "cursor": page["next"]})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "cursor"


async def test_image_files_link_uploaded_images(client: httpx.AsyncClient) -> None:
    image = (
        await client.post("/api/v1/files", params={"filename": "p.png"}, content=png())
    ).json()[0]
    text = (
        await client.post("/api/v1/files", params={"filename": "t.txt"}, content=b"words\n")
    ).json()[0]
    made = await create(client, IMAGE_FILES, {"file": image["cid"], "alt": "A red square"})
    assert made["file"] == image["cid"]
    assert made["width"] is None
    r = await client.post(IMAGE_FILES, json={"file": text["cid"]})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "file"
    found = (await client.get(IMAGE_FILES, params={"file": image["cid"]})).json()["items"]
    assert [f["id"] for f in found] == [made["id"]]
    release = await create(
        client,
        RELEASES,
        {
            "title": {"full": "Squares"},
            "cover_image": made["id"],
            "release_date": "2021-03-14",
            "catalogue_number": "MST-0001",
        },
    )
    assert release["release_date"] == "2021-03-14"
    assert release["cover_image"] == made["id"]
    listed = await client.get(RELEASES, params={"release_date": "2021-03-14"})
    assert [r["id"] for r in listed.json()["items"]] == [release["id"]]


async def test_visibility_changes_write_no_version(client: httpx.AsyncClient) -> None:
    made = await create(client, ARTISTS, {"name": {"full": "Shy"}})
    r = await client.patch(f"{ARTISTS}/{made['id']}", json={"visibility": "public"})
    assert r.status_code == 200
    assert r.json()["visibility"] == "public"
    assert r.json()["cid"] == made["cid"]


async def test_openapi_documents_the_record_routes(client: httpx.AsyncClient) -> None:
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for model in ("artists", "image-files", "still-images", "image-releases"):
        assert f"/api/v1/{model}" in paths
        assert f"/api/v1/{model}/{{{model.replace('-', '_')[:-1]}_id}}/versions" in paths
    assert "/api/v1/objects/{cid}" in paths


async def test_timestamps_come_from_the_versions(
    long_sessions: Settings, client: httpx.AsyncClient, frozen_clock: Any
) -> None:
    frozen_clock.frozen = 1_800_000_000.0
    made = await create(client, ARTISTS, {"name": {"full": "Timed"}})
    frozen_clock.frozen += 90
    later = (await client.patch(f"{ARTISTS}/{made['id']}", json={"bio": "b"})).json()
    assert made["created_at"] == "2027-01-15T08:00:00Z"
    assert later["created_at"] == made["created_at"]
    assert later["updated_at"] == "2027-01-15T08:01:30Z"


async def test_purge_and_forbidden_writes_over_http(make_client: Any, db: Database) -> None:
    alice = await make_client(role="user")
    made = await create(alice, ARTISTS, {"name": {"full": "Mine"}, "visibility": "public"})
    bob = await make_client(role="user")
    assert (await bob.get(f"{ARTISTS}/{made['id']}")).status_code == 200
    for method, url, body in (
        ("PATCH", f"{ARTISTS}/{made['id']}", {"bio": "mine now"}),
        ("DELETE", f"{ARTISTS}/{made['id']}", None),
        ("POST", f"{ARTISTS}/{made['id']}/revert", {"to": made["cid"]}),
        ("POST", f"{ARTISTS}/{made['id']}/purge", None),
    ):
        r = await bob.request(method, url, json=body)
        assert r.status_code == 403, (method, url, r.text)
        assert r.headers["content-type"] == PROBLEM
    r = await alice.post(f"{ARTISTS}/{made['id']}/purge")
    assert r.status_code == 403  # owners delete; only admins purge
    assert await count(db, RecordVersion) == 1
    admin = await make_client(role="admin")
    r = await admin.post(f"{ARTISTS}/{made['id']}/purge")
    assert r.status_code == 204
    assert await count(db, Record) == 0
    assert await count(db, Block) == 0
    assert (await admin.post(f"{ARTISTS}/{made['id']}/purge")).status_code == 404
    assert (await admin.get(f"/api/v1/objects/{made['content_cid']}")).status_code == 404


async def test_search_and_tags_ignore_case_beyond_ascii(client: httpx.AsyncClient) -> None:
    made = await create(client, ARTISTS, {"name": {"full": "Maren Økland", "short": "Straße"}})
    for params in ({"name_full": "ØKLAND"}, {"name_full": "økland"}, {"name_short": "STRASSE"}):
        found = (await client.get(ARTISTS, params=params)).json()["items"]
        assert [a["id"] for a in found] == [made["id"]], params
    work = await create(client, STILL_IMAGES, {"title": {"full": "W"}, "tags": ["Fjørd"]})
    assert work["tags"] == ["Fjørd"]  # content keeps the text as given
    found = (await client.get(STILL_IMAGES, params={"tags": "FJØRD"})).json()["items"]
    assert [w["id"] for w in found] == [work["id"]]


async def test_unknown_fields_are_refused_and_null_clears(
    client: httpx.AsyncClient, db: Database
) -> None:
    r = await client.post(ARTISTS, json={"name": {"full": "Typo"}, "nmae": "x"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "nmae"
    assert await count(db, Record) == 0
    made = await create(
        client, ARTISTS, {"name": {"full": "Clear"}, "bio": "b", "links": ["https://a.example/"]}
    )
    r = await client.patch(f"{ARTISTS}/{made['id']}", json={"boi": "typo"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "boi"
    r = await client.patch(f"{ARTISTS}/{made['id']}", json={"bio": None, "links": None})
    assert r.status_code == 200
    assert r.json()["bio"] is None
    assert r.json()["links"] == []
    content = (await client.get(f"/api/v1/objects/{r.json()['content_cid']}")).json()
    assert content == {"$type": "mart/artist", "name": {"full": "Clear"}}


async def test_same_content_created_concurrently_gives_distinct_records(
    client: httpx.AsyncClient, db: Database
) -> None:
    results = await asyncio.gather(
        *(client.post(ARTISTS, json={"name": {"full": "Same"}}) for _ in range(6))
    )
    assert [r.status_code for r in results] == [201] * 6
    made = [r.json() for r in results]
    assert len({m["id"] for m in made}) == 6
    assert len({m["content_cid"] for m in made}) == 1
    assert await count(db, Block) == 7  # one shared content block, six first versions
    for block in await rows(db, Block):
        assert record_cid(block.data) == block.cid
