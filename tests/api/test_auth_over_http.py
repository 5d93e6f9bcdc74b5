"""Bearer tokens and signed links through a real server (uvicorn on a loopback port)."""

import httpx


async def test_signed_in_upload_and_signed_link_over_http(live_server) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, headers=live_server.headers) as http:
        reply = await http.post("/api/v1/files?filename=a.txt", content=b"abc")
        assert reply.status_code == 201
        file = reply.json()[0]
        assert file["owner_id"] == live_server.user_id
        made = await http.post("/api/v1/links", json={"file_id": file["id"]})
        assert made.status_code == 201
    async with httpx.AsyncClient(base_url=live_server.url) as anonymous:
        assert (await anonymous.get(made.json()["url"])).content == b"abc"
        assert (await anonymous.get(f"/api/v1/files/{file['id']}/content")).status_code == 404
        refused = await anonymous.post("/api/v1/files?filename=b.txt", content=b"b")
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Bearer")


def test_me_over_http(live_server) -> None:
    reply = httpx.get(f"{live_server.url}/api/v1/auth/me", headers=live_server.headers)
    assert reply.status_code == 200
    assert reply.json()["id"] == live_server.user_id
