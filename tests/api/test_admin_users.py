"""The admin's user management: list, read, set role, disable, enable, sessions."""

import pytest
from sqlmodel import select

from mcore.auth.models import User

PROBLEM = "application/problem+json"


@pytest.fixture
async def admin(make_client):
    return await make_client("admin", username="root")


async def test_list_and_read(admin, make_client) -> None:
    users = [await make_client("user") for _ in range(3)]
    page = await admin.get("/api/v1/admin/users", params={"limit": 2})
    assert page.status_code == 200
    body = page.json()
    assert len(body["items"]) == 2
    assert body["next"]
    rest = (await admin.get("/api/v1/admin/users", params={"cursor": body["next"]})).json()
    ids = [u["id"] for u in body["items"] + rest["items"]]
    assert sorted(ids) == sorted([admin.user_id] + [u.user_id for u in users])
    assert "password" not in page.text
    assert "hash" not in page.text
    only = (await admin.get("/api/v1/admin/users", params={"role": "admin"})).json()["items"]
    assert [u["id"] for u in only] == [admin.user_id]
    one = await admin.get(f"/api/v1/admin/users/{users[0].user_id}")
    assert one.status_code == 200
    assert one.json()["username"] == users[0].username
    missing = await admin.get("/api/v1/admin/users/01aaaaaaaaaaaaaaaaaaaaaaaa")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
    bad = await admin.get("/api/v1/admin/users", params={"cursor": "garbage!"})
    assert bad.status_code == 422


@pytest.mark.parametrize("role", ["user", "moderator", "guest", None])
async def test_only_admins(make_client, db, role) -> None:
    target = await make_client("user")
    http = await make_client(role)
    expected = 401 if role is None else 403
    for method, path, body in [
        ("GET", "/api/v1/admin/users", None),
        ("GET", f"/api/v1/admin/users/{target.user_id}", None),
        ("PUT", f"/api/v1/admin/users/{target.user_id}/role", {"role": "admin"}),
        ("POST", f"/api/v1/admin/users/{target.user_id}/disable", None),
        ("POST", f"/api/v1/admin/users/{target.user_id}/enable", None),
        ("GET", f"/api/v1/admin/users/{target.user_id}/sessions", None),
        ("DELETE", f"/api/v1/admin/users/{target.user_id}/sessions", None),
    ]:
        reply = await http.request(method, path, json=body)
        assert reply.status_code == expected, (method, path, reply.text)
        assert reply.headers["content-type"] == PROBLEM
    async with db.session() as session:
        row = await session.get(User, target.user_id)
        assert (row.role, row.disabled) == ("user", False)
    assert (await target.get("/api/v1/auth/me")).status_code == 200


async def test_set_role_disable_enable(admin, make_client, db) -> None:
    user = await make_client("user")
    reply = await admin.put(f"/api/v1/admin/users/{user.user_id}/role", json={"role": "moderator"})
    assert reply.status_code == 200
    assert reply.json()["role"] == "moderator"
    bad = await admin.put(f"/api/v1/admin/users/{user.user_id}/role", json={"role": "owner"})
    assert bad.status_code == 422
    off = await admin.post(f"/api/v1/admin/users/{user.user_id}/disable")
    assert off.status_code == 200
    assert off.json()["disabled"] is True
    on = await admin.post(f"/api/v1/admin/users/{user.user_id}/enable")
    assert on.status_code == 200
    assert on.json()["disabled"] is False
    for path in ("role", "disable", "enable", "sessions"):
        method = "PUT" if path == "role" else ("GET" if path == "sessions" else "POST")
        reply = await admin.request(
            method, f"/api/v1/admin/users/nobody/{path}", json={"role": "user"}
        )
        assert reply.status_code == 404, path
    async with db.session() as session:
        row = await session.get(User, user.user_id)
        assert (row.role, row.disabled) == ("moderator", False)


async def test_the_last_admin_stays(admin, make_client, db) -> None:
    demote = await admin.put(f"/api/v1/admin/users/{admin.user_id}/role", json={"role": "user"})
    assert demote.status_code == 409
    assert "last enabled admin" in demote.json()["detail"]
    disable = await admin.post(f"/api/v1/admin/users/{admin.user_id}/disable")
    assert disable.status_code == 409
    second = await make_client("admin")
    assert (
        await second.put(f"/api/v1/admin/users/{admin.user_id}/role", json={"role": "user"})
    ).status_code == 200
    async with db.session() as session:
        admins = (await session.exec(select(User).where(User.role == "admin"))).all()
        assert [u.id for u in admins] == [second.user_id]
