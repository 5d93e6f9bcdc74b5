"""The trustless gateway's forms on ``/api/v1/objects/{cid}`` and ``/blobs/{cid}``:
``application/vnd.ipld.raw`` (the block's bytes) and ``application/vnd.ipld.car`` (a CAR v1
holding that one block), read back by libipld and ``@ipld/car``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from mcore.cid import file_cid, record_cid
from mcore.records.car import header, read_car, section
from tests.ipldcheck import NodeCar, libipld_blocks

OBJECTS = "/api/v1/objects"
RAW = "application/vnd.ipld.raw"
CAR = "application/vnd.ipld.car"


async def artist(client: httpx.AsyncClient, **extra: Any) -> dict[str, Any]:
    r = await client.post("/api/v1/artists", json={"name": {"full": "Gateway"}, **extra})
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def upload(client: httpx.AsyncClient, data: bytes, name: str) -> dict[str, Any]:
    r = await client.post("/api/v1/files", params={"filename": name}, content=data)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()[0]
    return body


def attachment_named(response: httpx.Response, name: str) -> None:
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert f'filename="{name}"' in disposition


async def test_a_record_block_as_raw_and_as_car(client: httpx.AsyncClient) -> None:
    made = await artist(client, bio="Raw.")
    url = f"{OBJECTS}/{made['cid']}"
    cbor = await client.get(url, headers={"Accept": "application/vnd.ipld.dag-cbor"})
    raw = await client.get(url, headers={"Accept": RAW})
    assert raw.status_code == 200, raw.text
    assert raw.headers["content-type"] == RAW
    assert raw.content == cbor.content
    assert record_cid(raw.content) == made["cid"]
    assert raw.headers["etag"] == f'"{made["cid"]}.raw"'
    assert raw.headers["x-content-type-options"] == "nosniff"
    assert raw.headers["cache-control"] == "private, max-age=31536000, immutable"
    assert raw.headers["vary"] == "Accept"
    attachment_named(raw, f"{made['cid']}.bin")

    car = await client.get(url, headers={"Accept": CAR})
    assert car.status_code == 200, car.text
    assert car.headers["content-type"] == CAR
    assert car.headers["etag"] == f'"{made["cid"]}.car"'
    assert car.headers["x-content-type-options"] == "nosniff"
    attachment_named(car, f"{made['cid']}.car")
    assert car.content == header([made["cid"]]) + section(made["cid"], cbor.content)
    roots, blocks = libipld_blocks(car.content)
    assert roots == [made["cid"]]
    assert list(blocks) == [made["cid"]]
    assert blocks[made["cid"]]["n"] == 1

    # each form is its own cache entry
    etags = {cbor.headers["etag"], raw.headers["etag"], car.headers["etag"]}
    assert len(etags) == 3
    again = await client.get(url, headers={"Accept": CAR, "If-None-Match": car.headers["etag"]})
    assert again.status_code == 304
    crossed = await client.get(url, headers={"Accept": CAR, "If-None-Match": raw.headers["etag"]})
    assert crossed.status_code == 200
    assert crossed.content == car.content


async def test_raw_and_car_need_the_same_right_to_read(
    client: httpx.AsyncClient, anon_client: httpx.AsyncClient
) -> None:
    made = await artist(client, visibility="private")
    for accept in (RAW, CAR):
        r = await anon_client.get(f"{OBJECTS}/{made['cid']}", headers={"Accept": accept})
        assert r.status_code == 404, accept
        assert r.headers["content-type"] == "application/problem+json"
    public = await artist(client, visibility="public")
    r = await anon_client.get(f"{OBJECTS}/{public['content_cid']}", headers={"Accept": CAR})
    assert r.status_code == 200
    assert read_car(r.content).roots == [public["content_cid"]]


async def test_an_object_still_refuses_what_no_form_gives(client: httpx.AsyncClient) -> None:
    made = await artist(client)
    r = await client.get(f"{OBJECTS}/{made['cid']}", headers={"Accept": "image/png"})
    assert r.status_code == 406
    assert RAW in r.json()["detail"]
    assert CAR in r.json()["detail"]


async def test_a_blob_as_raw_and_as_car(client: httpx.AsyncClient) -> None:
    data = b"gateway bytes\n" * 100
    made = await upload(client, data, "note.txt")
    cid = made["cid"]
    plain = await client.get(f"/blobs/{cid}")
    assert plain.status_code == 200
    assert plain.headers["etag"] == f'"{cid}"'
    assert plain.headers["vary"] == "Accept"

    raw = await client.get(f"/blobs/{cid}", headers={"Accept": RAW})
    assert raw.status_code == 200
    assert raw.content == data
    assert raw.headers["content-type"] == RAW
    assert raw.headers["etag"] == f'"{cid}.raw"'
    assert raw.headers["x-content-type-options"] == "nosniff"
    assert raw.headers["cache-control"] == plain.headers["cache-control"]
    attachment_named(raw, f"{cid}.bin")
    part = await client.get(f"/blobs/{cid}", headers={"Accept": RAW, "Range": "bytes=0-12"})
    assert part.status_code == 206
    assert part.content == data[:13]

    car = await client.get(f"/blobs/{cid}", headers={"Accept": CAR})
    assert car.status_code == 200
    assert car.headers["content-type"] == CAR
    assert car.headers["etag"] == f'"{cid}.car"'
    assert car.headers["x-content-type-options"] == "nosniff"
    assert car.headers["cache-control"] == plain.headers["cache-control"]
    assert int(car.headers["content-length"]) == len(car.content)
    attachment_named(car, f"{cid}.car")
    parsed = read_car(car.content)
    assert parsed.roots == [cid]
    assert parsed.blocks == {cid: data}
    assert file_cid(parsed.blocks[cid]) == cid
    cached = {"Accept": CAR, "If-None-Match": f'"{cid}.car"'}
    again = await client.get(f"/blobs/{cid}", headers=cached)
    assert again.status_code == 304
    head = await client.head(f"/blobs/{cid}", headers={"Accept": CAR})
    assert head.status_code == 200
    assert head.headers["content-length"] == car.headers["content-length"]
    assert head.content == b""

    # the same credential's next plain read (the fast path) is still the file as it is
    plain_again = await client.get(f"/blobs/{cid}")
    assert plain_again.content == data
    assert plain_again.headers["etag"] == f'"{cid}"'
    raw_again = await client.get(f"/blobs/{cid}", headers={"Accept": RAW})
    assert raw_again.headers["content-type"] == RAW


async def test_a_blob_form_needs_the_right_to_read(
    client: httpx.AsyncClient, anon_client: httpx.AsyncClient
) -> None:
    made = await upload(client, b"not for guests", "private.txt")
    for accept in (RAW, CAR):
        r = await anon_client.get(f"/blobs/{made['cid']}", headers={"Accept": accept})
        assert r.status_code == 404, accept


async def test_a_large_blob_car_streams_whole(client: httpx.AsyncClient, tmp_path: Path) -> None:
    data = bytes(range(256)) * 5000  # 1.28 MB: past the small-blob cache, read from disk
    made = await upload(client, data, "big.bin")
    car = await client.get(f"/blobs/{made['cid']}", headers={"Accept": CAR})
    assert car.status_code == 200
    assert read_car(car.content, max_block_size=len(data)).blocks == {made["cid"]: data}


async def test_node_reads_the_cars(
    client: httpx.AsyncClient, node_car: NodeCar, tmp_path: Path
) -> None:
    data = b"read by @ipld/car"
    made = await upload(client, data, "node.txt")
    car = (await client.get(f"/blobs/{made['cid']}", headers={"Accept": CAR})).content
    found = node_car.read(car, tmp_path)
    assert found["version"] == 1
    assert found["roots"] == [made["cid"]]
    [block] = found["blocks"]
    assert (block["cid"], block["codec"], block["hash"]) == (made["cid"], 0x55, 0x1E)
    assert block["bytes"] == data

    record = await artist(client)
    car = (await client.get(f"{OBJECTS}/{record['cid']}", headers={"Accept": CAR})).content
    found = node_car.read(car, tmp_path)
    assert found["roots"] == [record["cid"]]
    assert [(b["cid"], b["codec"]) for b in found["blocks"]] == [(record["cid"], 0x71)]
    assert record_cid(found["blocks"][0]["bytes"]) == record["cid"]


@pytest.mark.parametrize("accept", [f"{RAW};q=0, {CAR};q=0", f"{RAW};q=0"])
async def test_refused_forms_fall_back_to_the_file(client: httpx.AsyncClient, accept: str) -> None:
    made = await upload(client, b"plain", "plain.txt")
    r = await client.get(f"/blobs/{made['cid']}", headers={"Accept": accept})
    assert r.status_code == 200
    assert r.headers["etag"] == f'"{made["cid"]}"'
