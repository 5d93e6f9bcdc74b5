"""``GET /api/v1/<model>/{id}/export.car``: a record's whole history as a CAR v1, its root
the head version, read back by libipld and ``@ipld/car``; with ``files=1`` the linked files
as raw blocks, those over 1 MiB named in the manifest instead."""

from __future__ import annotations

import io
import itertools
import os
from pathlib import Path
from typing import Any

import dag_cbor
import httpx
import libipld
import pytest
from PIL import Image

from mcore.cid import file_cid, record_cid
from mcore.records.car import MAX_BLOCK_SIZE, read_car
from mcore.settings import Settings
from tests.ipldcheck import NodeCar, cid_text, libipld_blocks
from tests.recordkit import png

ARTISTS = "/api/v1/artists"
IMAGE_FILES = "/api/v1/image-files"
CAR = "application/vnd.ipld.car"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    settings.media.serve_public_originals = True
    return settings


def noise_png(side: int) -> bytes:
    """A PNG of random pixels: it does not compress, so it is about 3 bytes a pixel."""
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, format="PNG")
    return out.getvalue()


async def history(client: httpx.AsyncClient) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An artist with three versions (one a revert), and its versions newest first."""
    made = await client.post(ARTISTS, json={"name": {"full": "Exported"}, "bio": "One."})
    assert made.status_code == 201, made.text
    artist = made.json()
    url = f"{ARTISTS}/{artist['id']}"
    assert (await client.patch(url, json={"bio": "Two."})).status_code == 200
    reverted = await client.post(f"{url}/revert", json={"to": artist["id"]})
    assert reverted.status_code == 200, reverted.text
    versions = (await client.get(f"{url}/versions")).json()["items"]
    assert [v["n"] for v in versions] == [3, 2, 1]
    return reverted.json(), versions


async def upload(client: httpx.AsyncClient, data: bytes, name: str) -> dict[str, Any]:
    r = await client.post("/api/v1/files", params={"filename": name}, content=data)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()[0]
    return body


async def test_the_export_holds_every_version_and_content(client: httpx.AsyncClient) -> None:
    head, versions = await history(client)
    r = await client.get(f"{ARTISTS}/{head['id']}/export.car")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == CAR
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["etag"] == f'"{head["cid"]}.car"'
    assert f'filename="{head["id"]}.car"' in r.headers["content-disposition"]
    assert r.headers["content-disposition"].startswith("attachment;")
    assert int(r.headers["content-length"]) == len(r.content)

    roots, blocks = libipld_blocks(r.content)  # an implementation nobody here wrote
    assert roots == [head["cid"]]
    contents = {v["content_cid"] for v in versions}
    assert len(contents) == 2  # the revert shares the first version's content block
    assert set(blocks) == {v["cid"] for v in versions} | contents
    for version in versions:
        block = blocks[version["cid"]]
        assert block["$type"] == "mstack/version"
        assert block["n"] == version["n"]
        assert cid_text(block["content"]) == version["content_cid"]
    for newer, older in itertools.pairwise(versions):
        assert cid_text(blocks[newer["cid"]]["prev"]) == older["cid"]
    assert "prev" not in blocks[versions[-1]["cid"]]
    assert blocks[head["content_cid"]]["bio"] == "One."
    # our own reader agrees, block for block, in the documented order
    parsed = read_car(r.content)
    assert list(parsed.blocks) == [
        versions[0]["cid"],
        versions[0]["content_cid"],
        versions[1]["cid"],
        versions[1]["content_cid"],
        versions[2]["cid"],
    ]
    for cid, data in parsed.blocks.items():
        assert record_cid(data) == cid
        assert libipld.encode_dag_cbor(libipld.decode_dag_cbor(data)) == data


async def test_node_reads_the_export(
    client: httpx.AsyncClient, node_car: NodeCar, tmp_path: Path
) -> None:
    head, versions = await history(client)
    car = (await client.get(f"{ARTISTS}/{head['id']}/export.car")).content
    found = node_car.read(car, tmp_path)
    assert found["version"] == 1
    assert found["roots"] == [head["cid"]]
    assert {b["cid"] for b in found["blocks"]} == {v["cid"] for v in versions} | {
        v["content_cid"] for v in versions
    }
    for block in found["blocks"]:
        assert (block["codec"], block["hash"]) == (0x71, 0x1E)
        assert record_cid(block["bytes"]) == block["cid"]


async def test_files_come_as_raw_blocks_and_large_ones_in_the_manifest(
    client: httpx.AsyncClient, node_car: NodeCar, tmp_path: Path
) -> None:
    small = png(6, 5)
    large = noise_png(700)
    assert len(large) > MAX_BLOCK_SIZE
    small_file = await upload(client, small, "small.png")
    large_file = await upload(client, large, "large.png")
    made = await client.post(IMAGE_FILES, json={"file": small_file["cid"], "caption": "small"})
    assert made.status_code == 201, made.text
    record = made.json()
    changed = await client.patch(f"{IMAGE_FILES}/{record['id']}", json={"file": large_file["cid"]})
    assert changed.status_code == 200, changed.text
    head = changed.json()

    plain = await client.get(f"{IMAGE_FILES}/{record['id']}/export.car")
    assert plain.headers["x-mstack-omitted-files"] == "0"
    assert all(cid.startswith("bafyr4i") for cid in read_car(plain.content).blocks)

    r = await client.get(f"{IMAGE_FILES}/{record['id']}/export.car", params={"files": 1})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == f'"{head["cid"]}.files.car"'
    assert r.headers["x-mstack-omitted-files"] == "1"
    assert int(r.headers["content-length"]) == len(r.content)
    found = node_car.read(r.content, tmp_path)
    assert found["roots"] == [head["cid"]]
    raw = [b for b in found["blocks"] if b["codec"] == 0x55]
    assert [(b["cid"], b["bytes"]) for b in raw] == [(small_file["cid"], small)]
    assert file_cid(raw[0]["bytes"]) == small_file["cid"]
    manifests = []
    for block in found["blocks"]:
        if block["codec"] == 0x71:
            value = libipld.decode_dag_cbor(block["bytes"])
            assert record_cid(block["bytes"]) == block["cid"]
            if value["$type"] == "mstack/car-manifest":
                manifests.append(value)
    [manifest] = manifests
    assert cid_text(manifest["root"]) == head["cid"]
    assert [cid_text(c) for c in manifest["files"]] == [small_file["cid"]]
    [omitted] = manifest["omitted"]
    assert cid_text(omitted["cid"]) == large_file["cid"]
    assert omitted["size"] == len(large)
    assert "IPFS block" in omitted["reason"]
    # the same manifest as our own decoder sees it
    ours = [dag_cbor.decode(d) for d in read_car(r.content).blocks.values() if d[:1] == b"\xa4"]
    assert any(v.get("$type") == "mstack/car-manifest" for v in ours if isinstance(v, dict))


async def test_only_who_may_read_exports(
    client: httpx.AsyncClient, make_client: Any, anon_client: httpx.AsyncClient
) -> None:
    head, _ = await history(client)
    other = await make_client("user")
    for who in (other, anon_client):
        r = await who.get(f"{ARTISTS}/{head['id']}/export.car")
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/problem+json"
    r = await client.get(f"{IMAGE_FILES}/{head['id']}/export.car")
    assert r.status_code == 404  # an artist is not an image file
    r = await client.get(f"{ARTISTS}/bafyr4inope/export.car")
    assert r.status_code == 404
    public = await client.patch(f"{ARTISTS}/{head['id']}", json={"visibility": "public"})
    assert public.status_code == 200
    r = await anon_client.get(f"{ARTISTS}/{head['id']}/export.car")
    assert r.status_code == 200
    assert read_car(r.content).roots == [head["cid"]]


async def test_a_deleted_record_exports_with_its_tombstone(client: httpx.AsyncClient) -> None:
    head, versions = await history(client)
    gone = await client.delete(f"{ARTISTS}/{head['id']}")
    assert gone.status_code == 200
    tombstone = gone.json()["cid"]
    parsed = read_car((await client.get(f"{ARTISTS}/{head['id']}/export.car")).content)
    assert parsed.roots == [tombstone]
    assert dag_cbor.decode(parsed.blocks[tombstone])["deleted"] is True
    assert len(parsed.blocks) == len(versions) + 2 + 1


async def test_the_document_describes_the_export(client: httpx.AsyncClient) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    exports = [path for path in document["paths"] if path.endswith("/export.car")]
    from api._generated import RECORD_TYPES

    assert len(exports) == len(RECORD_TYPES) >= 4  # one a model of every spec
    for path in exports:
        operation = document["paths"][path]["get"]
        assert list(operation["responses"]["200"]["content"]) == [CAR]
        assert "1 MiB" in operation["description"]
        assert "files" in [p["name"] for p in operation["parameters"]]
