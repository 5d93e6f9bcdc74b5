"""Signed links to a file's content and to a blob: made for readers, usable without a session."""

from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from pydantic import SecretStr

from mcore.settings import Settings

PROBLEM = "application/problem+json"
DATA = b"\x89PNG\r\n\x1a\n" + b"\0" * 64  # sniffed as image/png


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Public images as they are: these tests are about links, on images no worker
    processes; withholding an image's metadata from others is tested in
    ``test_public_originals``."""
    settings.media.serve_public_originals = True
    return settings


async def upload(http, data: bytes = DATA, name: str = "pic.png") -> dict:
    reply = await http.post(f"/api/v1/files?filename={name}", content=data)
    assert reply.status_code == 201, reply.text
    return reply.json()[0]


async def link(http, **body) -> dict:
    reply = await http.post("/api/v1/links", json=body)
    assert reply.status_code == 201, reply.text
    return reply.json()


def tamper(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    pairs = [(k, value if k == name else v) for k, v in parse_qsl(parts.query)]
    return f"{parts.path}?{urlencode(pairs)}"


async def test_file_link_works_without_a_session(client, anon_client) -> None:
    file = await upload(client)
    made = await link(client, file_id=file["id"])
    assert made["url"].startswith(f"/api/v1/files/{file['id']}/content?")
    reply = await anon_client.get(made["url"])
    assert reply.status_code == 200
    assert reply.content == DATA
    assert reply.headers["content-type"] == "image/png"
    assert reply.headers["etag"] == f'"{file["cid"]}"'
    assert "pic.png" in reply.headers["content-disposition"]
    assert reply.headers["cache-control"].startswith("private")
    ranged = await anon_client.get(made["url"], headers={"Range": "bytes=0-3"})
    assert ranged.status_code == 206
    assert ranged.content == DATA[:4]
    head = await anon_client.head(made["url"])
    assert head.status_code == 200
    assert head.headers["content-length"] == str(len(DATA))


async def test_blob_link(client, anon_client) -> None:
    file = await upload(client)
    assert (await anon_client.get(f"/blobs/{file['cid']}")).status_code == 404  # private
    made = await link(client, cid=file["cid"])
    assert made["url"].startswith(f"/blobs/{file['cid']}?")
    reply = await anon_client.get(made["url"])
    assert reply.status_code == 200
    assert reply.content == DATA
    assert reply.headers["content-type"] == "image/png"


async def test_link_expires(client, anon_client, frozen_clock) -> None:
    file = await upload(client)
    made = await link(client, file_id=file["id"], expires_in=60)
    frozen_clock.offset += 59
    assert (await anon_client.get(made["url"])).status_code == 200
    frozen_clock.offset += 1
    reply = await anon_client.get(made["url"])
    assert reply.status_code == 403
    assert reply.headers["content-type"] == PROBLEM
    assert "expired" in reply.json()["detail"]


@pytest.mark.parametrize(
    "change",
    [
        lambda url, other: tamper(url, "exp", "99999999999"),
        lambda url, other: tamper(url, "cid", other["cid"]),
        lambda url, other: tamper(url, "type", "text/html"),
        lambda url, other: url.replace(url.split("/")[4], other["id"]),  # another file's path
        lambda url, other: url + "&download=1",
        lambda url, other: tamper(url, "sig", "A" * 43),
        lambda url, other: tamper(url, "kid", "other"),
    ],
)
async def test_tampered_links_are_refused(client, anon_client, change) -> None:
    file = await upload(client)
    other = await upload(client, b"other bytes", "other.txt")
    made = await link(client, file_id=file["id"])
    reply = await anon_client.get(change(made["url"], other))
    assert reply.status_code == 403
    assert reply.headers["content-type"] == PROBLEM
    assert b"other bytes" not in reply.content


async def test_links_only_for_readers(client, make_client, anon_client) -> None:
    file = await upload(client)
    stranger = await make_client("user")
    reply = await stranger.post("/api/v1/links", json={"file_id": file["id"]})
    assert reply.status_code == 404
    reply = await stranger.post("/api/v1/links", json={"cid": file["cid"]})
    assert reply.status_code == 404
    reply = await anon_client.post("/api/v1/links", json={"file_id": file["id"]})
    assert reply.status_code == 401
    # Once the file is public, a stranger may link to it.
    await client.patch(f"/api/v1/files/{file['id']}", json={"visibility": "public"})
    assert (await stranger.post("/api/v1/links", json={"file_id": file["id"]})).status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"file_id": "x", "cid": "y"},
        {"file_id": "x", "expires_in": 8 * 24 * 3600},
        {"file_id": "x", "expires_in": 0},
        {"cid": "not-a-cid"},
        {"cid": "bafyr4ifpcne3t5pzugtkaqcn5i3nzskjtpfslsnnyejlpte2spfoihzsmi"},  # a record codec
    ],
)
async def test_bad_link_requests(client, body) -> None:
    reply = await client.post("/api/v1/links", json=body)
    assert reply.status_code in (400, 404, 422), reply.text
    assert reply.headers["content-type"] == PROBLEM


async def test_signing_key_rotation_keeps_valid_links(client, settings, data_dir, tmp_path) -> None:
    from api.app import create_app

    file = await upload(client)
    old_url = (await link(client, file_id=file["id"]))["url"]

    async def fetch(conf: Settings, url: str) -> int:
        app = create_app(conf)
        async with (
            app.lifespan(),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://mstack.test"
            ) as http,
        ):
            return (await http.get(url)).status_code

    rotated = settings.model_copy(
        update={"link_keys": {**settings.link_keys, "k2": SecretStr("n" * 40)}, "link_key_id": "k2"}
    )
    assert await fetch(rotated, old_url) == 200  # the old key still verifies
    retired = settings.model_copy(
        update={"link_keys": {"k2": SecretStr("n" * 40)}, "link_key_id": "k2"}
    )
    assert await fetch(retired, old_url) == 403  # once dropped, its links stop


async def test_a_link_ends_when_its_file_is_trashed_and_returns_with_it(
    client, anon_client
) -> None:
    file = await upload(client)
    links = [(await link(client, file_id=file["id"]))["url"]]
    links.append((await link(client, cid=file["cid"]))["url"])
    for url in links * 2:  # the second read of each comes from the fast path's memory
        assert (await anon_client.get(url)).status_code == 200
    assert (await client.delete(f"/api/v1/files/{file['id']}")).status_code == 200
    for url in links:
        reply = await anon_client.get(url)
        assert reply.status_code == 403
        assert reply.headers["content-type"] == PROBLEM
        assert "deleted, made private or hidden" in reply.json()["detail"]
    assert (await client.post(f"/api/v1/files/{file['id']}/restore")).status_code == 200
    for url in links:
        assert (await anon_client.get(url)).status_code == 200  # not yet expired: works again


async def test_a_link_grants_only_what_its_maker_may_still_read(
    client, make_client, anon_client
) -> None:
    file = await upload(client)
    await client.patch(f"/api/v1/files/{file['id']}", json={"visibility": "public"})
    stranger = await make_client("user")
    shared = (await link(stranger, file_id=file["id"]))["url"]
    assert (await anon_client.get(shared)).status_code == 200
    await client.patch(f"/api/v1/files/{file['id']}", json={"visibility": "private"})
    assert (await anon_client.get(shared)).status_code == 403  # the stranger can't read it
    mine = (await link(client, file_id=file["id"]))["url"]
    assert (await anon_client.get(mine)).status_code == 200  # the owner still can
    admin = await make_client("admin")
    disabled = await admin.post(f"/api/v1/admin/users/{client.user_id}/disable")
    assert disabled.status_code == 200
    reply = await anon_client.get(mine)
    assert reply.status_code == 403
    assert "can no longer share it" in reply.json()["detail"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_link_made_with_an_api_key_ends_when_the_key_is_revoked(
    client, anon_client
) -> None:
    file = await upload(client)
    made = await client.post("/api/v1/auth/keys", json={"name": "s", "scopes": ["files:read"]})
    key = made.json()
    urls = []
    for body in ({"file_id": file["id"]}, {"cid": file["cid"]}):
        reply = await anon_client.post("/api/v1/links", json=body, headers=bearer(key["key"]))
        assert reply.status_code == 201, reply.text
        urls.append(reply.json()["url"])
    mine = (await link(client, file_id=file["id"]))["url"]  # made by the session: unaffected
    for url in [*urls, mine] * 2:  # the second read of each comes from the fast path's memory
        assert (await anon_client.get(url)).status_code == 200
    assert (await client.delete(f"/api/v1/auth/keys/{key['id']}")).status_code == 200
    for url in urls:
        reply = await anon_client.get(url)
        assert reply.status_code == 403
        assert reply.headers["content-type"] == PROBLEM
        assert "API key this link was made with has ended" in reply.json()["detail"]
    assert (await anon_client.get(mine)).status_code == 200


async def test_a_link_made_by_a_session_ends_at_its_logout(client, make_client, anon_client):
    file = await upload(client)
    await client.patch(f"/api/v1/files/{file['id']}", json={"visibility": "public"})
    other = await make_client(None)  # a second sign-in of the same account
    signed_in = await other.post(
        "/api/v1/auth/login", json={"username": client.username, "password": client.password}
    )
    other.headers.update(bearer(signed_in.json()["access_token"]))
    from_other = (await link(other, file_id=file["id"]))["url"]
    from_first = (await link(client, cid=file["cid"]))["url"]
    for url in (from_other, from_first) * 2:
        assert (await anon_client.get(url)).status_code == 200
    assert (await other.post("/api/v1/auth/logout")).status_code == 204
    reply = await anon_client.get(from_other)
    assert reply.status_code == 403
    assert "signed out, revoked or expired" in reply.json()["detail"]
    assert (await anon_client.get(from_first)).status_code == 200  # its session goes on
    assert (await client.post("/api/v1/auth/logout")).status_code == 204
    assert (await anon_client.get(from_first)).status_code == 403


async def test_links_made_before_they_named_their_credential_last_until_they_expire(
    client, anon_client, server_app, frozen_clock
) -> None:
    """Older links carry the maker (``by``) or nothing: honoured, with the maker's check,
    until their expiry, however the session that made them ends."""
    file = await upload(client)
    signer = server_app.state.auth.links
    expires = int(frozen_clock.time()) + 600
    path = f"/api/v1/files/{file['id']}/content"
    params = {"cid": file["cid"], "type": "image/png", "name": "pic.png"}
    older = signer.sign(path, expires=expires, params=params | {"by": client.user_id})
    oldest = signer.sign(path, expires=expires, params=params)
    assert (await client.post("/api/v1/auth/logout")).status_code == 204
    for url in (older, oldest) * 2:
        assert (await anon_client.get(url)).status_code == 200
    frozen_clock.offset += 601
    for url in (older, oldest):
        assert (await anon_client.get(url)).status_code == 403


async def test_another_process_honours_a_revocation_within_read_grant_ttl(
    settings, frozen_clock
) -> None:
    """Two servers on one database, no Redis: the one that did not see the revocation
    serves a link it checked for at most read_grant_ttl more seconds."""
    from contextlib import AsyncExitStack

    from api.app import create_app
    from tests.conftest import sign_in_new_account

    async with AsyncExitStack() as stack:
        clients = []
        apps = []
        for _ in range(2):
            app = create_app(settings)
            await stack.enter_async_context(app.lifespan())
            http = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://mstack.test"
                )
            )
            apps.append(app)
            clients.append(http)
        http_a, http_b = clients
        await sign_in_new_account(apps[0], http_a, role="user", username="ann")
        file = await upload(http_a)
        url = (await link(http_a, file_id=file["id"]))["url"]
        assert (await http_b.get(url)).status_code == 200  # checked by B, and remembered
        assert (await http_a.post("/api/v1/auth/logout")).status_code == 204
        del http_a.headers["Authorization"]  # the link alone, as anyone would use it
        assert (await http_a.get(url)).status_code == 403  # A saw it: at once
        assert (await http_b.get(url)).status_code == 200  # B: from its memory
        frozen_clock.offset += settings.read_grant_ttl + 1
        assert (await http_b.get(url)).status_code == 403
