"""Signing in with the SDK against the real accounts API: passwords, API keys, tokens that
refresh by themselves (the server's clock is moved, nothing else is faked), sessions shared
between processes through the credentials file, sign-out and signed links."""

from __future__ import annotations

import asyncio
import io
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select

from mcore.auth.models import RefreshToken
from mcore.db import Database
from mstack_client import AsyncClient, Client, NotSignedIn, Tokens, Unauthorized
from mstack_client.config import Credentials, FileTokenStore
from tests.client.conftest import USERNAME
from tests.conftest import PASSWORD, LiveServer

PAST_ACCESS_TTL = 16 * 60  # the server's access tokens live 15 minutes


def make_key(server: LiveServer, scopes: list[str] | None = None) -> dict[str, Any]:
    reply = httpx.post(
        f"{server.url}/api/v1/auth/keys",
        json={"name": "script", "scopes": scopes or ["files:read", "files:write"]},
        headers=server.headers,
    )
    assert reply.status_code == 201, reply.text
    return reply.json()


def test_sign_in_with_a_username_or_an_email(live_server: LiveServer) -> None:
    with Client(live_server.url) as client:
        assert not client.signed_in
        tokens = client.login(username=USERNAME, password=PASSWORD)
        assert tokens.refresh_token
        assert tokens.expires_at is not None
        assert 14 * 60 < tokens.expires_at - time.time() <= 15 * 60
        me = client.me()
        assert (me.id, me.username, me.role) == (live_server.user_id, USERNAME, "user")
    with Client(live_server.url) as client:
        client.login(email=f"{USERNAME}@example.org", password=PASSWORD)
        assert client.me().id == live_server.user_id


def test_a_wrong_password_is_unauthorized_with_the_servers_problem(live_server: LiveServer) -> None:
    with Client(live_server.url) as client:
        with pytest.raises(Unauthorized) as info:
            client.login(username=USERNAME, password="not the password")
        assert info.value.status == 401
        assert info.value.problem["status"] == 401
        assert info.value.detail
        assert not client.signed_in
        with pytest.raises(ValueError, match="either"):
            client.login(email="a@b.c", username="b", password="x")


def test_an_api_key_is_a_bearer_credential(live_server: LiveServer) -> None:
    key = make_key(live_server)["key"]
    with Client(live_server.url, api_key=key) as client:
        assert client.me().id == live_server.user_id
        file = client.upload(io.BytesIO(b"by key"), filename="k.txt")
        assert file.owner_id == live_server.user_id
        with pytest.raises(Unauthorized):
            client.refresh()  # a key has no session to refresh
    with Client(live_server.url, api_key=key + "x") as client, pytest.raises(Unauthorized):
        client.me()


def test_a_key_without_write_scope_is_forbidden_to_upload(live_server: LiveServer) -> None:
    from mstack_client import Forbidden

    key = make_key(live_server, scopes=["files:read"])["key"]
    with Client(live_server.url, api_key=key) as client, pytest.raises(Forbidden) as info:
        client.upload(io.BytesIO(b"no"), filename="n.txt")
    assert info.value.status == 403


def test_an_expired_access_token_is_refreshed_by_itself(
    sdk: Client, live_server: LiveServer, frozen_clock: Any
) -> None:
    first = sdk.tokens
    assert first is not None
    frozen_clock.offset += PAST_ACCESS_TTL
    refused = httpx.get(f"{live_server.url}/api/v1/auth/me", headers=_bearer(first))
    assert refused.status_code == 401  # the server no longer takes the old token...

    assert sdk.me().id == live_server.user_id  # ...and the client got a new one by itself
    second = sdk.tokens
    assert second is not None
    assert second.access_token != first.access_token
    assert second.refresh_token != first.refresh_token
    file = sdk.upload(io.BytesIO(b"after refresh"), filename="r.txt")
    assert sdk.get_file(file.id).owner_id == live_server.user_id


def test_tokens_are_refreshed_ahead_of_their_end(sdk: Client) -> None:
    before = sdk.tokens
    assert before is not None
    sdk._adopt(Tokens(before.access_token, before.refresh_token, time.time() + 5))
    sdk.list_files()
    after = sdk.tokens
    assert after is not None
    assert after.refresh_token != before.refresh_token
    assert after.expires_at is not None
    assert after.expires_at > time.time() + 60


async def refresh_tokens_issued(db: Database) -> int:
    async with db.session() as session:
        return len((await session.exec(select(RefreshToken))).all())


async def test_parallel_requests_after_expiry_refresh_once(
    sdk: Client, live_server: LiveServer, frozen_clock: Any, db: Database
) -> None:
    """A refresh token is single-use: spending it twice would end the session."""
    assert await refresh_tokens_issued(db) == 2  # the live server's sign-in and the sdk's
    frozen_clock.offset += PAST_ACCESS_TTL

    def many() -> list[str]:
        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(lambda _: sdk.me().id, range(16)))

    assert await asyncio.to_thread(many) == [live_server.user_id] * 16
    assert await refresh_tokens_issued(db) == 3  # one refresh for all sixteen


async def test_async_client_refreshes_once_for_many_tasks(
    live_server: LiveServer, frozen_clock: Any, db: Database
) -> None:
    async with AsyncClient(live_server.url) as client:
        await client.login(username=USERNAME, password=PASSWORD)
        frozen_clock.offset += PAST_ACCESS_TTL
        users = await asyncio.gather(*(client.me() for _ in range(12)))
        assert {u.id for u in users} == {live_server.user_id}
        assert await refresh_tokens_issued(db) == 3
        await client.logout()
        assert client.tokens is None


def test_processes_sharing_the_credentials_file_do_not_spend_a_token_twice(
    live_server: LiveServer, tmp_path: Path, frozen_clock: Any
) -> None:
    credentials = Credentials(tmp_path / "mstack")
    first = Client(live_server.url, token_store=FileTokenStore(credentials, live_server.url))
    first.login(username=USERNAME, password=PASSWORD)
    # a second process starts from the same file, then the first one refreshes
    second = Client(live_server.url, token_store=FileTokenStore(credentials, live_server.url))
    frozen_clock.offset += PAST_ACCESS_TTL
    assert first.me().id == live_server.user_id
    # the second still holds the spent refresh token: it must take the file's new tokens
    assert second.me().id == live_server.user_id
    assert second.tokens == first.tokens
    assert first.me().id == live_server.user_id  # nobody ended the session
    stored = FileTokenStore(credentials, live_server.url).load()
    assert stored == first.tokens
    first.close()
    second.close()


def test_a_reused_refresh_token_ends_the_session_and_clears_the_store(
    live_server: LiveServer, tmp_path: Path, frozen_clock: Any
) -> None:
    store = FileTokenStore(Credentials(tmp_path / "mstack"), live_server.url)
    with Client(live_server.url, token_store=store) as client:
        client.login(username=USERNAME, password=PASSWORD)
        old = client.tokens
        assert old is not None
        client.refresh()
        frozen_clock.offset += 31  # past the server's refresh_grace_period (30 s)
        # someone presents the spent token: the server ends the session to protect it
        reuse = httpx.post(
            f"{live_server.url}/api/v1/auth/refresh", json={"refresh_token": old.refresh_token}
        )
        assert reuse.status_code == 401
        frozen_clock.offset += PAST_ACCESS_TTL
        with pytest.raises(Unauthorized, match="sign in again"):
            client.me()
        assert client.tokens is None
        assert store.load() is None


def test_logout_ends_the_session_on_the_server(sdk: Client, live_server: LiveServer) -> None:
    tokens = sdk.tokens
    assert tokens is not None
    sdk.logout()
    assert sdk.tokens is None
    assert (
        httpx.get(f"{live_server.url}/api/v1/auth/me", headers=_bearer(tokens)).status_code == 401
    )
    with pytest.raises(Unauthorized):
        sdk.upload(io.BytesIO(b"x"), filename="x.txt")
    with pytest.raises(Unauthorized):
        sdk.me()
    assert not isinstance(NotSignedIn("x"), Unauthorized)


def test_signed_links_work_without_a_session(sdk: Client, live_server: LiveServer) -> None:
    file = sdk.upload(io.BytesIO(b"shared bytes"), filename="s.txt")
    assert httpx.get(f"{live_server.url}/api/v1/files/{file.id}/content").status_code == 404
    by_id = sdk.create_link(file.id, expires_in=60)
    assert by_id.url.startswith(live_server.url + "/")
    assert by_id.expires_at is not None
    assert httpx.get(by_id.url).content == b"shared bytes"
    by_cid = sdk.create_link(file.cid)
    assert httpx.get(by_cid.url).content == b"shared bytes"


def test_image_links_and_transforms_from_the_sdk(sdk: Client, live_server: LiveServer) -> None:
    import pyvips

    from tests import media

    file = sdk.upload(io.BytesIO(media.jpeg(300, 150)), filename="p.jpg")
    link = sdk.image_link(file.id, width=60, format="png", expires_in=120)
    assert link.url.startswith(f"{live_server.url}/api/v1/files/{file.id}/image?")
    assert link.expires_at is not None
    got = httpx.get(link.url)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "image/png"
    assert pyvips.Image.new_from_buffer(got.content, "").width == 60
    tampered = link.url.replace("w=60", "w=61")
    assert httpx.get(tampered).status_code == 403
    job = sdk.transform(file.id, "ocr")
    assert (job.kind, job.file_id, job.state) == ("transform_file", file.id, "queued")


def _bearer(tokens: Tokens) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens.access_token}"}
