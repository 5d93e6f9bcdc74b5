"""File records and their bytes: read, list, rename, trash, restore, download."""

from datetime import timedelta

import httpx
import pytest

from mcore.cid import file_cid
from mcore.settings import Settings
from tests.conftest import PASSWORD

FILES = "/api/v1/files"
PROBLEM = "application/problem+json"


async def upload(client: httpx.AsyncClient, data: bytes, name: str = "f.bin") -> dict:
    r = await client.post(FILES, params={"filename": name}, content=data)
    assert r.status_code == 201, r.text
    return r.json()[0]


async def test_read_one(client: httpx.AsyncClient) -> None:
    record = await upload(client, b"abc", "a.txt")
    r = await client.get(f"{FILES}/{record['id']}")
    assert r.status_code == 200
    assert r.json() == record


@pytest.mark.parametrize("bad_id", ["01m8000000000000000000000z", "not-an-id", "..%2f..%2fetc"])
async def test_unknown_id_is_a_clear_404(client: httpx.AsyncClient, bad_id: str) -> None:
    for path in (f"{FILES}/{bad_id}", f"{FILES}/{bad_id}/content"):
        r = await client.get(path)
        assert r.status_code == 404
        assert r.headers["content-type"] == PROBLEM
        assert r.json()["detail"]


async def test_unknown_route_is_problem_details(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/nothing-here")
    assert r.status_code == 404
    assert r.headers["content-type"] == PROBLEM


async def test_list_is_paginated_newest_first(client: httpx.AsyncClient) -> None:
    ids = [(await upload(client, b"file %d" % i))["id"] for i in range(5)]
    seen = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(FILES, params=params)).json()
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))


@pytest.mark.parametrize(
    "params", [{"cursor": "garbage!"}, {"cursor": "eyJpZCI6MX0"}, {"limit": 0}, {"limit": 500}]
)
async def test_bad_list_parameters(client: httpx.AsyncClient, params: dict) -> None:
    r = await client.get(FILES, params=params)
    assert r.status_code in (400, 422)
    assert r.headers["content-type"] == PROBLEM


async def test_rename_sanitises(client: httpx.AsyncClient) -> None:
    record = await upload(client, b"abc", "a.txt")
    r = await client.patch(f"{FILES}/{record['id']}", json={"filename": "../b\u202e.txt"})
    assert r.status_code == 200
    assert r.json()["filename"] == "b.txt"
    assert r.json()["cid"] == record["cid"]


async def test_patch_with_wrong_types_is_422(client: httpx.AsyncClient) -> None:
    record = await upload(client, b"abc")
    r = await client.patch(f"{FILES}/{record['id']}", json={"visibility": "everyone"})
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["errors"][0]["field"] == "visibility"


async def test_trash_and_restore(client: httpx.AsyncClient) -> None:
    record = await upload(client, b"precious")
    r = await client.delete(f"{FILES}/{record['id']}")
    assert r.status_code == 200
    assert r.json()["deleted_at"] is not None
    assert (await client.get(f"{FILES}/{record['id']}")).status_code == 404
    assert (await client.get(f"{FILES}/{record['id']}/content")).status_code == 404
    assert (await client.get(FILES)).json()["items"] == []
    trash = (await client.get(FILES, params={"trashed": True})).json()["items"]
    assert [t["id"] for t in trash] == [record["id"]]
    r = await client.post(f"{FILES}/{record['id']}/restore")
    assert r.status_code == 200
    assert r.json()["deleted_at"] is None
    content = await client.get(f"{FILES}/{record['id']}/content")
    assert content.content == b"precious"


async def test_restore_after_retention_is_gone(
    client: httpx.AsyncClient, settings: Settings, frozen_clock
) -> None:
    settings.trash_retention = timedelta(days=1)
    record = await upload(client, b"old")
    await client.delete(f"{FILES}/{record['id']}")
    frozen_clock.offset += 2 * 86400
    login = await client.post(
        "/api/v1/auth/login", json={"username": client.username, "password": PASSWORD}
    )
    client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
    r = await client.post(f"{FILES}/{record['id']}/restore")
    assert r.status_code == 410
    assert "too long ago" in r.json()["detail"]


async def test_content_headers(client: httpx.AsyncClient) -> None:
    data = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    record = await upload(client, data, "pic.png")
    r = await client.get(f"{FILES}/{record['id']}/content")
    assert r.status_code == 200
    assert r.content == data
    h = r.headers
    assert h["etag"] == f'"{record["cid"]}"'
    assert h["cache-control"] == "private, max-age=31536000, immutable"
    assert h["x-content-type-options"] == "nosniff"
    assert h["content-security-policy"] == "sandbox"
    assert h["content-type"] == "image/png"
    assert h["content-disposition"].startswith('inline; filename="pic.png"')
    assert h["accept-ranges"] == "bytes"
    assert h["content-length"] == str(len(data))


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("page.html", b"<!doctype html><html><script>alert(1)</script></html>", "text/html"),
        (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>x</script></svg>',
            "image/svg+xml",
        ),
    ],
)
async def test_active_content_is_an_attachment(
    client: httpx.AsyncClient, name: str, data: bytes, kind: str
) -> None:
    record = await upload(client, data, name)
    assert record["content_type"] == kind
    for path in (f"{FILES}/{record['id']}/content", f"/blobs/{record['cid']}"):
        h = (await client.get(path)).headers
        assert h["content-disposition"].startswith("attachment;")
        assert h["content-security-policy"] == "sandbox"
        assert h["x-content-type-options"] == "nosniff"


async def test_conditional_get_and_head(client: httpx.AsyncClient) -> None:
    record = await upload(client, b"0123456789")
    url = f"{FILES}/{record['id']}/content"
    etag = f'"{record["cid"]}"'
    r = await client.get(url, headers={"If-None-Match": etag})
    assert r.status_code == 304
    assert r.content == b""
    assert r.headers["etag"] == etag
    assert (await client.get(url, headers={"If-None-Match": '"other", ' + etag})).status_code == 304
    assert (await client.get(url, headers={"If-None-Match": '"other"'})).status_code == 200
    head = await client.head(url)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == "10"


@pytest.mark.parametrize(
    ("header", "status", "body", "content_range"),
    [
        ("bytes=0-3", 206, b"0123", "bytes 0-3/10"),
        ("bytes=5-", 206, b"56789", "bytes 5-9/10"),
        ("bytes=-3", 206, b"789", "bytes 7-9/10"),
        ("bytes=8-100", 206, b"89", "bytes 8-9/10"),
        ("bytes=10-", 416, b"", "bytes */10"),
        ("bytes=5-2", 416, b"", "bytes */10"),
        ("bytes=0-1,4-5", 200, b"0123456789", None),  # several ranges: the whole body
        ("items=0-1", 200, b"0123456789", None),
    ],
)
async def test_ranges(
    client: httpx.AsyncClient, header: str, status: int, body: bytes, content_range: str | None
) -> None:
    record = await upload(client, b"0123456789")
    for path in (f"{FILES}/{record['id']}/content", f"/blobs/{record['cid']}"):
        r = await client.get(path, headers={"Range": header})
        assert r.status_code == status
        assert r.headers.get("content-range") == content_range
        if status == 416:
            assert r.headers["content-type"] == PROBLEM
            assert "outside the 10 bytes" in r.json()["detail"]
        else:
            assert r.content == body


async def test_if_range_with_another_etag_sends_everything(client: httpx.AsyncClient) -> None:
    record = await upload(client, b"0123456789")
    url = f"/blobs/{record['cid']}"
    r = await client.get(url, headers={"Range": "bytes=0-1", "If-Range": '"stale"'})
    assert r.status_code == 200
    r = await client.get(url, headers={"Range": "bytes=0-1", "If-Range": f'"{record["cid"]}"'})
    assert r.status_code == 206


async def test_large_file_streams_with_ranges(client: httpx.AsyncClient) -> None:
    data = bytes(range(256)) * (4 * 4096 + 7)  # ~4 MiB: the streamed path, not the cache
    record = await upload(client, data)
    r = await client.get(f"/blobs/{record['cid']}")
    assert r.content == data
    r = await client.get(f"/blobs/{record['cid']}", headers={"Range": "bytes=1048570-2097160"})
    assert r.status_code == 206
    assert r.content == data[1048570:2097161]


async def test_blob_by_cid(client: httpx.AsyncClient) -> None:
    record = await upload(client, b"by cid", "n.txt")
    r = await client.get(f"/blobs/{record['cid']}")
    assert r.status_code == 200
    assert r.content == b"by cid"
    assert r.headers["content-type"] == "text/plain"


async def test_blob_of_a_trashed_file_is_not_served(client: httpx.AsyncClient) -> None:
    record = await upload(client, b"trashed")
    await client.delete(f"{FILES}/{record['id']}")
    assert (await client.get(f"/blobs/{record['cid']}")).status_code == 404


@pytest.mark.parametrize(
    "cid",
    [
        file_cid(b"never uploaded"),
        "bafkr4ideg6z2yocgkez77nr3outtvdnvjdcvqrs5phnqh7jvtrwnlpm5qU",
        "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG",
        "nonsense",
    ],
)
async def test_bad_or_unknown_blob_cids(client: httpx.AsyncClient, cid: str) -> None:
    r = await client.get(f"/blobs/{cid}")
    assert r.status_code in (404, 422)
    assert r.headers["content-type"] == PROBLEM


async def test_health_and_schema(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    schema = (await client.get("/schema")).json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/files" in schema["paths"]
    assert "/blobs/{cid}" in schema["paths"]
