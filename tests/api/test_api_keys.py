"""API keys: scopes, shown once, stored hashed, revocable, last-used time."""

import pytest
from sqlmodel import select

from mcore.auth.models import ApiKey


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def make_key(http, *scopes: str, **extra) -> dict:
    reply = await http.post(
        "/api/v1/auth/keys", json={"name": "script", "scopes": list(scopes), **extra}
    )
    assert reply.status_code == 201, reply.text
    return reply.json()


async def test_key_is_shown_once_and_stored_hashed(client, db) -> None:
    created = await make_key(client, "files:read", "files:write")
    assert created["key"].startswith("msk_")
    assert len(created["key"]) > 40
    assert created["key"].startswith(created["prefix"])
    assert created["scopes"] == ["files:read", "files:write"]
    listed = (await client.get("/api/v1/auth/keys")).json()
    assert [k["id"] for k in listed] == [created["id"]]
    assert "key" not in listed[0]
    assert created["key"] not in (await client.get("/api/v1/auth/keys")).text
    async with db.session() as session:
        row = (await session.exec(select(ApiKey))).one()
        assert row.key_hash != created["key"]
        assert len(row.key_hash) == 64
        assert created["key"] not in (row.key_hash, row.prefix, row.name)


async def test_read_scope_reads_but_does_not_write(client, anon_client) -> None:
    mine = (await client.post("/api/v1/files?filename=a.txt", content=b"a")).json()[0]
    key = (await make_key(client, "files:read"))["key"]
    assert (await anon_client.get("/api/v1/files", headers=bearer(key))).status_code == 200
    read = await anon_client.get(f"/api/v1/files/{mine['id']}/content", headers=bearer(key))
    assert read.status_code == 200
    assert read.content == b"a"
    upload = await anon_client.post(
        "/api/v1/files?filename=b.txt", content=b"b", headers=bearer(key)
    )
    assert upload.status_code == 403
    assert "files:write" in upload.json()["detail"]
    rename = await anon_client.patch(
        f"/api/v1/files/{mine['id']}", json={"filename": "x.txt"}, headers=bearer(key)
    )
    assert rename.status_code == 403
    delete = await anon_client.delete(f"/api/v1/files/{mine['id']}", headers=bearer(key))
    assert delete.status_code == 403
    assert (await client.get(f"/api/v1/files/{mine['id']}")).json()["filename"] == "a.txt"


async def test_write_scope_without_read_scope(client, anon_client) -> None:
    key = (await make_key(client, "files:write"))["key"]
    upload = await anon_client.post(
        "/api/v1/files?filename=b.txt", content=b"b", headers=bearer(key)
    )
    assert upload.status_code == 201
    assert upload.json()[0]["owner_id"] == client.user_id
    assert (await anon_client.get("/api/v1/files", headers=bearer(key))).status_code == 403


async def test_records_scopes_do_not_open_files(client, anon_client) -> None:
    key = (await make_key(client, "records:read", "records:write"))["key"]
    assert (await anon_client.get("/api/v1/files", headers=bearer(key))).status_code == 403


async def test_admin_scope_only_for_admins(client, make_client, anon_client) -> None:
    refused = await client.post("/api/v1/auth/keys", json={"name": "k", "scopes": ["admin"]})
    assert refused.status_code == 403
    admin = await make_client("admin")
    no_admin_scope = (await make_key(admin, "files:read"))["key"]
    assert (
        await anon_client.get("/api/v1/admin/users", headers=bearer(no_admin_scope))
    ).status_code == 403
    with_admin = (await make_key(admin, "admin"))["key"]
    assert (
        await anon_client.get("/api/v1/admin/users", headers=bearer(with_admin))
    ).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"name": "k", "scopes": ["files:delete"]},
        {"name": "k", "scopes": []},
        {"name": "", "scopes": ["files:read"]},
        {"name": "   ", "scopes": ["files:read"]},
        {"name": "k", "scopes": ["files:read"], "expires_in": 0},
        {"scopes": ["files:read"]},
    ],
)
async def test_bad_key_requests(client, db, body) -> None:
    reply = await client.post("/api/v1/auth/keys", json=body)
    assert reply.status_code in (400, 422)
    assert reply.headers["content-type"] == "application/problem+json"
    async with db.session() as session:
        assert (await session.exec(select(ApiKey))).first() is None


async def test_revoked_key_is_refused_on_the_next_request(client, anon_client, make_client) -> None:
    created = await make_key(client, "files:read")
    assert (
        await anon_client.get("/api/v1/files", headers=bearer(created["key"]))
    ).status_code == 200
    other = await make_client("user")
    assert (await other.delete(f"/api/v1/auth/keys/{created['id']}")).status_code == 404
    revoked = await client.delete(f"/api/v1/auth/keys/{created['id']}")
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert (
        await anon_client.get("/api/v1/files", headers=bearer(created["key"]))
    ).status_code == 401


async def test_key_expiry(client, anon_client, frozen_clock) -> None:
    key = (await make_key(client, "files:read", expires_in=60))["key"]
    assert (await anon_client.get("/api/v1/files", headers=bearer(key))).status_code == 200
    frozen_clock.offset += 61
    assert (await anon_client.get("/api/v1/files", headers=bearer(key))).status_code == 401


async def test_a_key_cannot_manage_credentials(client, anon_client) -> None:
    key = (await make_key(client, "files:read", "files:write"))["key"]
    for method, path, body in [
        ("POST", "/api/v1/auth/keys", {"name": "k2", "scopes": ["files:read"]}),
        ("GET", "/api/v1/auth/keys", None),
        ("GET", "/api/v1/auth/sessions", None),
        ("POST", "/api/v1/auth/logout", None),
        ("POST", "/api/v1/auth/password", {"current_password": "x" * 10, "new_password": "y" * 12}),
    ]:
        reply = await anon_client.request(method, path, json=body, headers=bearer(key))
        assert reply.status_code == 403, (path, reply.text)
    me = await anon_client.get("/api/v1/auth/me", headers=bearer(key))
    assert me.status_code == 200
    assert me.json()["id"] == client.user_id


async def test_last_used_is_written_at_most_once_a_minute(
    client, anon_client, db, server_app, frozen_clock
) -> None:
    created = await make_key(client, "files:read")

    async def last_used():
        async with db.session() as session:
            return (await session.get(ApiKey, created["id"])).last_used_at

    assert await last_used() is None
    await anon_client.get("/api/v1/files", headers=bearer(created["key"]))
    await server_app.state.auth.flush()
    first = await last_used()
    assert first is not None
    frozen_clock.offset += 30
    await anon_client.get("/api/v1/files", headers=bearer(created["key"]))
    await server_app.state.auth.flush()
    assert await last_used() == first  # not written again within the minute
    frozen_clock.offset += 31
    await anon_client.get("/api/v1/files", headers=bearer(created["key"]))
    await server_app.state.auth.flush()
    assert (await last_used()) > first


async def test_a_guest_cannot_make_keys(make_client, db) -> None:
    guest = await make_client("guest")
    reply = await guest.post("/api/v1/auth/keys", json={"name": "s", "scopes": ["files:read"]})
    assert reply.status_code == 403
    assert reply.headers["content-type"] == "application/problem+json"
    assert "guests create nothing" in reply.json()["detail"]
    async with db.session() as session:
        assert (await session.exec(select(ApiKey))).all() == []
    assert (await guest.get("/api/v1/auth/keys")).json() == []
