"""``GET /api/v1/files?cid=``: how a client finds the files it already has with some bytes."""

import httpx

from mcore.cid import file_cid


async def upload(client: httpx.AsyncClient, data: bytes, name: str) -> dict:
    response = await client.post("/api/v1/files", params={"filename": name}, content=data)
    assert response.status_code == 201, response.text
    return response.json()[0]


async def test_files_are_filtered_by_cid(client: httpx.AsyncClient) -> None:
    first = await upload(client, b"alpha", "a.txt")
    second = await upload(client, b"alpha", "again.txt")
    await upload(client, b"beta", "b.txt")

    response = await client.get("/api/v1/files", params={"cid": file_cid(b"alpha"), "mine": True})
    assert response.status_code == 200
    assert [f["id"] for f in response.json()["items"]] == [second["id"], first["id"]]
    none = await client.get("/api/v1/files", params={"cid": file_cid(b"gamma")})
    assert none.json() == {"items": [], "next": None}

    await client.delete(f"/api/v1/files/{second['id']}")
    alive = await client.get("/api/v1/files", params={"cid": file_cid(b"alpha")})
    assert [f["id"] for f in alive.json()["items"]] == [first["id"]]  # the trash is not "had"


async def test_a_bad_cid_filter_is_a_clear_422(client: httpx.AsyncClient) -> None:
    for bad in (
        "nope",
        file_cid(b"x").upper(),
        "bafyr4ideg6z2yocgkez77nr3outtvdnvjdcvqrs5phnqh7jvtrwnlpm5qu",
    ):
        response = await client.get("/api/v1/files", params={"cid": bad})
        assert response.status_code == 422, bad
        problem = response.json()
        assert response.headers["content-type"] == "application/problem+json"
        assert problem["errors"][0]["field"] == "cid"
