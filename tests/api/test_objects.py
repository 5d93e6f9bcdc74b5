"""``/api/v1/objects/{cid}``: content negotiation (JSON or DAG-CBOR, else 406), one ETag per
representation, and ``If-None-Match`` answered 304 as on blobs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from api.routes.objects import negotiate
from mcore.cid import record_cid

ARTISTS = "/api/v1/artists"
OBJECTS = "/api/v1/objects"
PROBLEM = "application/problem+json"
DAG_CBOR = "application/vnd.ipld.dag-cbor"
JSON = "application/json"
RAW = "application/vnd.ipld.raw"
CAR = "application/vnd.ipld.car"


async def artist(client: httpx.AsyncClient, **extra: Any) -> dict[str, Any]:
    r = await client.post(ARTISTS, json={"name": {"full": "Negotiated"}, **extra})
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


@pytest.mark.parametrize(
    "accept",
    [
        "image/png",
        "text/html",
        "application/xml, text/*",
        f"{JSON};q=0, {DAG_CBOR};q=0",
        f"*/*;q=0.5, {JSON};q=0, {DAG_CBOR};q=0, {RAW};q=0, {CAR};q=0",
        "application/problem+json",
    ],
)
async def test_an_accept_it_cannot_give_is_406(client: httpx.AsyncClient, accept: str) -> None:
    made = await artist(client)
    r = await client.get(f"{OBJECTS}/{made['content_cid']}", headers={"Accept": accept})
    assert r.status_code == 406, r.text
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["status"] == 406
    assert body["title"] == "Not acceptable"
    assert JSON in body["detail"]
    assert DAG_CBOR in body["detail"]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        (JSON, JSON),
        (DAG_CBOR, DAG_CBOR),
        (f"{JSON};q=0.5, {DAG_CBOR}", DAG_CBOR),
        (f"*/*, {JSON};q=0", DAG_CBOR),
        (f"application/*;q=0.9, {DAG_CBOR};q=0.1", JSON),
        (f"text/html, {DAG_CBOR};q=0.2", DAG_CBOR),
        (RAW, RAW),
        (CAR, CAR),
        (f"{CAR}, {RAW};q=0.5", CAR),
        (f"*/*;q=0.5, {JSON};q=0, {DAG_CBOR};q=0", RAW),
    ],
)
async def test_negotiation_picks_the_representation(
    client: httpx.AsyncClient, accept: str | None, expected: str
) -> None:
    assert negotiate(accept) == expected
    made = await artist(client)
    headers = {} if accept is None else {"Accept": accept}
    r = await client.get(f"{OBJECTS}/{made['content_cid']}", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].split(";")[0] == expected
    assert r.headers["vary"] == "Accept"


async def test_each_representation_has_its_own_etag(client: httpx.AsyncClient) -> None:
    made = await artist(client, bio="Tagged.")
    url = f"{OBJECTS}/{made['cid']}"
    as_json = await client.get(url, headers={"Accept": JSON})
    as_cbor = await client.get(url, headers={"Accept": DAG_CBOR})
    assert as_json.status_code == as_cbor.status_code == 200
    assert as_cbor.headers["etag"] == f'"{made["cid"]}"'
    assert as_json.headers["etag"] == f'"{made["cid"]}.json"'
    assert record_cid(as_cbor.content) == made["cid"]
    for r in (as_json, as_cbor):
        assert r.headers["vary"] == "Accept"

    # a cache holding one form must not be told the other is the same
    crossed = await client.get(
        url, headers={"Accept": JSON, "If-None-Match": as_cbor.headers["etag"]}
    )
    assert crossed.status_code == 200
    assert crossed.content == as_json.content
    crossed = await client.get(
        url, headers={"Accept": DAG_CBOR, "If-None-Match": as_json.headers["etag"]}
    )
    assert crossed.status_code == 200
    assert crossed.content == as_cbor.content


@pytest.mark.parametrize("accept", [JSON, DAG_CBOR])
async def test_if_none_match_is_304(client: httpx.AsyncClient, accept: str) -> None:
    made = await artist(client)
    url = f"{OBJECTS}/{made['content_cid']}"
    first = await client.get(url, headers={"Accept": accept})
    etag = first.headers["etag"]
    for inm in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        r = await client.get(url, headers={"Accept": accept, "If-None-Match": inm})
        assert r.status_code == 304, inm
        assert r.content == b""
        assert r.headers["etag"] == etag
        assert r.headers["vary"] == "Accept"
        assert r.headers["cache-control"] == first.headers["cache-control"]
    r = await client.get(url, headers={"Accept": accept, "If-None-Match": '"other"'})
    assert r.status_code == 200
    assert r.content == first.content


async def test_304_only_for_callers_who_may_read(
    client: httpx.AsyncClient, anon_client: httpx.AsyncClient
) -> None:
    made = await artist(client, visibility="private")
    url = f"{OBJECTS}/{made['content_cid']}"
    etag = (await client.get(url)).headers["etag"]
    r = await anon_client.get(url, headers={"If-None-Match": etag})
    assert r.status_code == 404
    assert r.headers["content-type"] == PROBLEM
    r = await anon_client.get(url, headers={"If-None-Match": "*"})
    assert r.status_code == 404


async def test_the_document_declares_406_and_304(client: httpx.AsyncClient) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    operation = document["paths"]["/api/v1/objects/{cid}"]["get"]
    responses = operation["responses"]
    assert set(responses["200"]["content"]) == {JSON, DAG_CBOR, RAW, CAR}
    assert "ETag" in responses["200"]["headers"]
    assert ".json" in responses["200"]["headers"]["ETag"]["description"]
    assert list(responses["406"]["content"]) == [PROBLEM]
    assert "304" in responses
    assert "If-None-Match" in [p["name"] for p in operation["parameters"]]
