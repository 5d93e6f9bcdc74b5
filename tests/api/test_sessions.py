"""Access tokens, refresh, logout and revocation, as a client sees them."""

import base64
import json
import threading
from datetime import timedelta

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import OctKey
from sqlmodel import select

from mcore.auth.models import AuthSession, RefreshToken
from mcore.settings import DEV_TOKEN_KEY
from tests.conftest import PASSWORD, LiveServer

PROBLEM = "application/problem+json"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def refused(http, token: str, path: str = "/api/v1/auth/me") -> bool:
    reply = await http.get(path, headers=bearer(token))
    if reply.status_code == 401:
        assert reply.headers["content-type"] == PROBLEM
        assert reply.headers["www-authenticate"].startswith("Bearer")
        assert token not in reply.text
        return True
    assert reply.status_code == 200, reply.text
    return False


async def test_access_token_expires_with_the_clock(client, anon_client, frozen_clock) -> None:
    assert not await refused(anon_client, client.token)
    frozen_clock.offset += 15 * 60 - 5
    assert not await refused(anon_client, client.token)
    frozen_clock.offset += 10
    assert await refused(anon_client, client.token)
    # The refresh token still works, and its new access token is good for 15 minutes more.
    reply = await anon_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": client.refresh_token}
    )
    assert reply.status_code == 200
    assert not await refused(anon_client, reply.json()["access_token"])


async def test_session_expires_with_the_clock(client, anon_client, frozen_clock) -> None:
    frozen_clock.offset += 30 * 24 * 3600 + 1
    reply = await anon_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": client.refresh_token}
    )
    assert reply.status_code == 401
    assert "expired" in reply.json()["detail"]


async def test_logout_refuses_the_token_on_the_very_next_request(client, anon_client, db) -> None:
    assert not await refused(anon_client, client.token)  # cached as live...
    assert (await client.post("/api/v1/auth/logout")).status_code == 204
    assert await refused(anon_client, client.token)  # ...and refused right after
    reply = await anon_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": client.refresh_token}
    )
    assert reply.status_code == 401
    async with db.session() as session:
        row = (await session.exec(select(AuthSession))).one()
        assert row.revoked_at is not None
        assert row.revoked_reason == "logout"


async def test_refresh_rotates(client, anon_client, db) -> None:
    first = await anon_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": client.refresh_token}
    )
    assert first.status_code == 200
    pair = first.json()
    assert pair["refresh_token"] != client.refresh_token
    assert pair["token_type"] == "bearer"
    second = await anon_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert second.status_code == 200
    assert not await refused(anon_client, second.json()["access_token"])
    async with db.session() as session:
        tokens = [(t.token_hash, t.used_at) for t in (await session.exec(select(RefreshToken)))]
    assert len(tokens) == 3
    assert sum(used is None for _, used in tokens) == 1
    assert all(len(digest) == 64 for digest, _ in tokens)  # digests, never the tokens
    stored = {digest for digest, _ in tokens}
    assert client.refresh_token not in stored
    assert pair["refresh_token"] not in stored


async def test_refresh_reuse_revokes_the_whole_session(
    client, anon_client, db, frozen_clock
) -> None:
    rotated = await anon_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": client.refresh_token}
    )
    new_pair = rotated.json()
    assert not await refused(anon_client, new_pair["access_token"])
    frozen_clock.offset += 31  # past refresh_grace_period
    # Someone replays the first refresh token: two parties hold this session.
    replay = await anon_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": client.refresh_token}
    )
    assert replay.status_code == 401
    assert "already used" in replay.json()["detail"]
    # Every token of the session is now refused, the legitimate new ones included.
    assert await refused(anon_client, new_pair["access_token"])
    assert await refused(anon_client, client.token)
    after = await anon_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": new_pair["refresh_token"]}
    )
    assert after.status_code == 401
    async with db.session() as session:
        row = (await session.exec(select(AuthSession))).one()
        assert row.revoked_reason == "refresh-reuse"


async def test_a_retried_refresh_gets_the_same_pair_within_the_grace_period(
    client, anon_client, db, frozen_clock
) -> None:
    """A client that lost the answer to its refresh and asks again is not signed out."""
    frozen_clock.frozen = frozen_clock.time()
    first = await anon_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": client.refresh_token}
    )
    assert first.status_code == 200
    frozen_clock.frozen += 29
    again = await anon_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": client.refresh_token}
    )
    assert again.status_code == 200, again.text
    assert again.json()["refresh_token"] == first.json()["refresh_token"]
    assert not await refused(anon_client, again.json()["access_token"])
    async with db.session() as session:
        assert len((await session.exec(select(RefreshToken))).all()) == 2  # nothing new made
    # The successor is spent once, like any refresh token; the chain goes on.
    third = await anon_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first.json()["refresh_token"]}
    )
    assert third.status_code == 200
    frozen_clock.frozen += 2  # the first token was spent 31 s ago: a replay now is theft
    replay = await anon_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": client.refresh_token}
    )
    assert replay.status_code == 401
    assert await refused(anon_client, third.json()["access_token"])


@pytest.mark.parametrize("grace", [timedelta(0), timedelta(seconds=30)])
def test_two_concurrent_refreshes_over_http_keep_the_session(settings, grace) -> None:
    """Two requests with one refresh token, truly at once on a real server: both get the
    same new pair and the session lives (with no grace period, the second ends it)."""
    server = LiveServer(settings.model_copy(update={"refresh_grace_period": grace}))
    server.start()
    try:
        reply = httpx.post(
            f"{server.url}/api/v1/auth/login",
            json={"username": "live-user", "password": PASSWORD},
        )
        token = reply.json()["refresh_token"]
        start = threading.Barrier(2)
        replies: list[httpx.Response] = []

        def refresh() -> None:
            with httpx.Client(base_url=server.url) as http:
                start.wait()
                replies.append(http.post("/api/v1/auth/refresh", json={"refresh_token": token}))

        threads = [threading.Thread(target=refresh) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        codes = sorted(r.status_code for r in replies)
        if not grace:
            assert codes == [200, 401]
            return
        assert codes == [200, 200], [r.text for r in replies]
        assert replies[0].json()["refresh_token"] == replies[1].json()["refresh_token"]
        for r in replies:
            me = httpx.get(f"{server.url}/api/v1/auth/me", headers=bearer(r.json()["access_token"]))
            assert me.status_code == 200
    finally:
        server.stop()


@pytest.mark.parametrize(
    "token", ["", "msr_", "msr_" + "A" * 43, "not-a-refresh-token", "x" * 1000]
)
async def test_bad_refresh_tokens(anon_client, token) -> None:
    reply = await anon_client.post("/api/v1/auth/refresh", json={"refresh_token": token})
    assert reply.status_code == 401
    assert reply.headers["content-type"] == PROBLEM


def b64(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def forged_claims(client) -> dict:
    return {
        "iss": "mstack",
        "sub": client.user_id,
        "sid": "01" + "0" * 24,
        "role": "admin",
        "scope": "admin files:read files:write",
        "iat": 1,
        "exp": 4_000_000_000,
    }


@pytest.mark.parametrize(
    "make",
    [
        lambda c: (
            b64({"alg": "none", "typ": "at+jwt", "kid": "dev"}) + "." + b64(forged_claims(c)) + "."
        ),
        lambda c: jwt.encode(
            {"alg": "HS256", "typ": "at+jwt", "kid": "dev"},
            forged_claims(c),
            OctKey.import_key(b"an attacker's own key of 32 bytes!"),
        ),
        lambda c: c.token[:-4] + ("AAAA" if not c.token.endswith("AAAA") else "BBBB"),
        lambda c: c.token.split(".")[0] + "." + b64(forged_claims(c)) + "." + c.token.split(".")[2],
        lambda c: "garbage",
        lambda c: "a.b.c",
        lambda c: "msk_" + "x" * 43,  # an API key that does not exist
    ],
)
async def test_bad_tokens_are_401(client, anon_client, make) -> None:
    assert await refused(anon_client, make(client))


async def test_a_validly_signed_token_for_an_unknown_session_is_refused(
    client, anon_client
) -> None:
    # Signed with the (development) key itself: the signature is right, but no session
    # stands behind it, so it is refused all the same.
    token = jwt.encode(
        {"alg": "HS256", "typ": "at+jwt", "kid": "dev"},
        forged_claims(client),
        OctKey.import_key(DEV_TOKEN_KEY.encode()),
    )
    assert await refused(anon_client, token)


@pytest.mark.parametrize(
    "header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "Token abc", "bearer"]
)
async def test_other_authorization_schemes_are_401(anon_client, header) -> None:
    reply = await anon_client.get("/api/v1/files", headers={"Authorization": header})
    assert reply.status_code == 401
    assert reply.headers["content-type"] == PROBLEM


async def test_no_credentials_is_a_guest(anon_client, client) -> None:
    private = (await client.post("/api/v1/files?filename=p.txt", content=b"private")).json()[0]
    public = (await client.post("/api/v1/files?filename=q.txt", content=b"public")).json()[0]
    await client.patch(f"/api/v1/files/{public['id']}", json={"visibility": "public"})
    listed = await anon_client.get("/api/v1/files")
    assert listed.status_code == 200
    assert [f["id"] for f in listed.json()["items"]] == [public["id"]]
    assert (await anon_client.get(f"/api/v1/files/{private['id']}")).status_code == 404
    upload = await anon_client.post("/api/v1/files?filename=x.txt", content=b"x")
    assert upload.status_code == 401  # creating anything needs an account


async def test_sessions_list_and_revoke(client, anon_client, make_client) -> None:
    other = await anon_client.post(
        "/api/v1/auth/login",
        json={"username": client.username, "password": PASSWORD},
        headers={"User-Agent": "phone-app/1.0"},
    )
    other_token = other.json()["access_token"]
    listed = await client.get("/api/v1/auth/sessions")
    assert listed.status_code == 200
    sessions = listed.json()
    assert len(sessions) == 2
    assert [s["current"] for s in sessions].count(True) == 1
    phone = next(s for s in sessions if not s["current"])
    assert phone["user_agent"] == "phone-app/1.0"
    stranger = await make_client("user")
    assert (await stranger.delete(f"/api/v1/auth/sessions/{phone['id']}")).status_code == 404
    assert not await refused(anon_client, other_token)
    assert (await client.delete(f"/api/v1/auth/sessions/{phone['id']}")).status_code == 204
    assert await refused(anon_client, other_token)
    assert len((await client.get("/api/v1/auth/sessions")).json()) == 1
    assert (await client.delete("/api/v1/auth/sessions/nonexistent")).status_code == 404


async def test_admin_revokes_all_sessions_of_a_user(make_client, anon_client) -> None:
    admin = await make_client("admin")
    user = await make_client("user")
    second = await anon_client.post(
        "/api/v1/auth/login", json={"username": user.username, "password": PASSWORD}
    )
    listed = await admin.get(f"/api/v1/admin/users/{user.user_id}/sessions")
    assert len(listed.json()) == 2
    reply = await admin.delete(f"/api/v1/admin/users/{user.user_id}/sessions")
    assert reply.json() == {"revoked": 2}
    assert await refused(anon_client, user.token)
    assert await refused(anon_client, second.json()["access_token"])
    assert not await refused(anon_client, admin.token)


async def test_disabling_a_user_refuses_their_valid_token(make_client, anon_client) -> None:
    admin = await make_client("admin")
    user = await make_client("user")
    key = await user.post("/api/v1/auth/keys", json={"name": "k", "scopes": ["files:read"]})
    api_key = key.json()["key"]
    assert not await refused(anon_client, user.token)
    assert not await refused(anon_client, api_key, "/api/v1/files")
    assert (await admin.post(f"/api/v1/admin/users/{user.user_id}/disable")).status_code == 200
    assert await refused(anon_client, user.token)
    assert await refused(anon_client, api_key, "/api/v1/files")
    # Enabling lets the user sign in again, but the ended sessions stay ended.
    assert (await admin.post(f"/api/v1/admin/users/{user.user_id}/enable")).status_code == 200
    assert await refused(anon_client, user.token)
    assert not await refused(anon_client, api_key, "/api/v1/files")
    login = await anon_client.post(
        "/api/v1/auth/login", json={"username": user.username, "password": PASSWORD}
    )
    assert login.status_code == 200


async def test_role_changes_take_effect_on_the_next_request(make_client) -> None:
    admin = await make_client("admin")
    user = await make_client("user")
    assert (await user.get("/api/v1/admin/users")).status_code == 403
    reply = await admin.put(f"/api/v1/admin/users/{user.user_id}/role", json={"role": "admin"})
    assert reply.status_code == 200
    assert reply.json()["role"] == "admin"
    assert (await user.get("/api/v1/admin/users")).status_code == 200  # same token
    await admin.put(f"/api/v1/admin/users/{user.user_id}/role", json={"role": "guest"})
    assert (await user.get("/api/v1/admin/users")).status_code == 403
    upload = await user.post("/api/v1/files?filename=a.txt", content=b"a")
    assert upload.status_code == 403  # a guest creates nothing


async def test_prune_ended_sessions(make_client, anon_client, db, frozen_clock) -> None:
    from datetime import timedelta

    from mcore.auth import ops
    from mcore.clock import utcnow

    ended = await make_client("user")
    live = await make_client("user")
    await anon_client.post("/api/v1/auth/refresh", json={"refresh_token": live.refresh_token})
    assert (await ended.post("/api/v1/auth/logout")).status_code == 204
    async with db.session(write=True) as session:
        assert await ops.prune_sessions(session, before=utcnow() - timedelta(days=1)) == 0
    frozen_clock.offset += 2 * 24 * 3600
    async with db.session(write=True) as session:
        assert await ops.prune_sessions(session, before=utcnow() - timedelta(days=1)) == 1
    async with db.session() as session:
        sessions = (await session.exec(select(AuthSession))).all()
        assert [s.user_id for s in sessions] == [live.user_id]
        tokens = (await session.exec(select(RefreshToken))).all()
        assert {t.session_id for t in tokens} == {sessions[0].id}
        assert len(tokens) == 2
    # The live session keeps working after the prune.
    frozen_clock.offset -= 2 * 24 * 3600
    assert not await refused(anon_client, live.token)
