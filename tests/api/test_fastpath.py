"""The blob fast path answers without the database, yet never serves what is no longer
allowed: a write in the process invalidates every read grant; cached links still expire."""

from typing import Any

import httpx

FILES = "/api/v1/files"


async def upload(client: httpx.AsyncClient, data: bytes) -> dict:
    r = await client.post(FILES, params={"filename": "a.txt"}, content=data)
    assert r.status_code == 201
    return r.json()[0]


async def test_trashing_stops_cached_reads_at_once(client: httpx.AsyncClient) -> None:
    record = await upload(client, b"granted")
    for _ in range(2):  # the second read is served from the grant
        assert (await client.get(f"/blobs/{record['cid']}")).status_code == 200
    assert (await client.delete(f"{FILES}/{record['id']}")).status_code == 200
    assert (await client.get(f"/blobs/{record['cid']}")).status_code == 404


async def test_making_private_stops_anonymous_reads(
    client: httpx.AsyncClient, make_client: Any
) -> None:
    record = await upload(client, b"public for a while")
    await client.patch(f"{FILES}/{record['id']}", json={"visibility": "public"})
    anonymous = await make_client(role=None)
    for _ in range(2):
        r = await anonymous.get(f"/blobs/{record['cid']}")
        assert r.status_code == 200
        assert r.headers["cache-control"].startswith("private")  # by CID: type comes from the file
    await client.patch(f"{FILES}/{record['id']}", json={"visibility": "private"})
    assert (await anonymous.get(f"/blobs/{record['cid']}")).status_code == 404


async def test_grants_are_per_caller(client: httpx.AsyncClient, make_client: Any) -> None:
    record = await upload(client, b"only mine")
    assert (await client.get(f"/blobs/{record['cid']}")).status_code == 200
    other = await make_client(role="user")
    assert (await other.get(f"/blobs/{record['cid']}")).status_code == 404


async def test_a_cached_link_still_expires(
    client: httpx.AsyncClient, make_client: Any, frozen_clock: Any
) -> None:
    record = await upload(client, b"linked")
    link = (
        await client.post("/api/v1/links", json={"cid": record["cid"], "expires_in": 60})
    ).json()
    anonymous = await make_client(role=None)
    for _ in range(2):
        assert (await anonymous.get(link["url"])).status_code == 200
    frozen_clock.offset += 61
    r = await anonymous.get(link["url"])
    assert r.status_code == 403
    assert "expired" in r.json()["detail"]


async def test_a_tampered_copy_of_a_cached_link_is_refused(
    client: httpx.AsyncClient, make_client: Any
) -> None:
    record = await upload(client, b"linked")
    other = await upload(client, b"not linked")
    link = (await client.post("/api/v1/links", json={"cid": record["cid"]})).json()["url"]
    anonymous = await make_client(role=None)
    assert (await anonymous.get(link)).status_code == 200
    forged = link.replace(record["cid"], other["cid"])
    assert (await anonymous.get(forged)).status_code == 403


async def test_a_key_without_files_read_is_refused_after_its_users_session_read(
    client: httpx.AsyncClient, make_client: Any
) -> None:
    """Grants are the credential's, not the account's: the session's read opens nothing for
    a key of the same user that lacks ``files:read``."""
    record = await upload(client, b"the session may, the key may not")
    made = await client.post(
        "/api/v1/auth/keys", json={"name": "records only", "scopes": ["records:read"]}
    )
    key = {"Authorization": f"Bearer {made.json()['key']}"}
    script = await make_client(role=None)
    assert (await script.get(f"/blobs/{record['cid']}", headers=key)).status_code == 403
    for _ in range(2):
        assert (await client.get(f"/blobs/{record['cid']}")).status_code == 200
    refused = await script.get(f"/blobs/{record['cid']}", headers=key)
    assert refused.status_code == 403
    assert "files:read" in refused.json()["detail"]
