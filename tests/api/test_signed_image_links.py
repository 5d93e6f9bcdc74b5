"""Signed links to a transformed image (``/api/v1/files/{id}/image``), imgproxy style: the
path and the parameters signed with a key id and an expiry, usable without a token."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
import pyvips
from pydantic import SecretStr

from mcore.settings import Settings
from tests import media
from tests.conftest import AuthedClient, MakeClient

PROBLEM = "application/problem+json"
pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("backend", ["sqlite"])]


async def upload(http: AuthedClient, data: bytes, name: str = "pic.jpg") -> dict[str, Any]:
    reply = await http.post("/api/v1/files", params={"filename": name}, content=data)
    assert reply.status_code == 201, reply.text
    return dict(reply.json()[0])


async def image_link(http: AuthedClient, file_id: str, **image: Any) -> str:
    reply = await http.post("/api/v1/links", json={"file_id": file_id, "image": image})
    assert reply.status_code == 201, reply.text
    return str(reply.json()["url"])


def altered(url: str, name: str, value: str | None) -> str:
    """The URL with one query parameter changed (or dropped, for None), the rest as given."""
    parts = urlsplit(url)
    pairs = [(k, value if k == name else v) for k, v in parse_qsl(parts.query)]
    return f"{parts.path}?{urlencode([(k, v) for k, v in pairs if v is not None])}"


def refused(reply: httpx.Response, why: str) -> None:
    assert reply.status_code == 403, reply.text
    assert reply.headers["content-type"] == PROBLEM
    assert why in reply.json()["detail"]


async def test_a_signed_image_link_works_without_a_token(
    client: AuthedClient, anon_client: AuthedClient
) -> None:
    file = await upload(client, media.jpeg(400, 200))
    url = await image_link(client, file["id"], w=100, format="png")
    parts = urlsplit(url)
    assert parts.path == f"/api/v1/files/{file['id']}/image"
    query = dict(parse_qsl(parts.query))
    assert {k: query[k] for k in ("w", "fit", "format", "q")} == {
        "w": "100",
        "fit": "contain",
        "format": "png",
        "q": "100",
    }
    assert {"exp", "kid", "sig", "by"} <= set(query)
    assert (await anon_client.get(f"/api/v1/files/{file['id']}/image?w=100")).status_code == 404
    reply = await anon_client.get(url)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "image/png"
    image = pyvips.Image.new_from_buffer(reply.content, "")
    assert (image.width, image.height) == (100, 50)
    again = await anon_client.get(url)
    assert again.headers["x-cache"] == "hit"
    assert again.content == reply.content
    # the owner's own bearer requests keep today's rules beside it
    assert (await client.get(f"/api/v1/files/{file['id']}/image?w=100")).status_code == 200


async def test_an_altered_or_unsigned_link_is_refused(
    client: AuthedClient, anon_client: AuthedClient
) -> None:
    file = await upload(client, media.jpeg(400, 200))
    url = await image_link(client, file["id"], w=100)
    refused(await anon_client.get(altered(url, "w", "2000")), "altered")
    refused(await anon_client.get(altered(url, "format", "png")), "altered")
    refused(await anon_client.get(url + "&h=50"), "altered")
    refused(await anon_client.get(altered(url, "kid", "other")), "no longer accepts")
    refused(await anon_client.get(altered(url, "exp", None)), "malformed")
    # without its signature it is an ordinary request: a private file is not found
    assert (await anon_client.get(altered(url, "sig", None))).status_code == 404
    # a link to the file's content does not open its /image, nor another file's
    content = await client.post("/api/v1/links", json={"file_id": file["id"]})
    content_query = urlsplit(content.json()["url"]).query
    refused(await anon_client.get(f"/api/v1/files/{file['id']}/image?{content_query}"), "altered")
    other = await upload(client, media.jpeg(300, 300, color=(0, 90, 200)), "other.jpg")
    moved = url.replace(file["id"], other["id"])
    refused(await anon_client.get(moved), "altered")


async def test_a_link_expires(
    client: AuthedClient, anon_client: AuthedClient, frozen_clock: Any
) -> None:
    file = await upload(client, media.jpeg(400, 200))
    reply = await client.post(
        "/api/v1/links", json={"file_id": file["id"], "image": {"h": 40}, "expires_in": 60}
    )
    url = reply.json()["url"]
    frozen_clock.offset += 59
    assert (await anon_client.get(url)).status_code == 200
    frozen_clock.offset += 1
    refused(await anon_client.get(url), "expired")


async def test_a_link_ends_when_its_maker_may_no_longer_read_the_file(
    make_client: MakeClient,
) -> None:
    owner, reader, anonymous = (
        await make_client("user"),
        await make_client("user"),
        await make_client(None),
    )
    file = await upload(owner, media.jpeg(400, 200))
    assert (
        await owner.patch(f"/api/v1/files/{file['id']}", json={"visibility": "public"})
    ).status_code == 200
    theirs = await image_link(reader, file["id"], w=80)
    mine = await image_link(owner, file["id"], w=80)
    assert (await anonymous.get(theirs)).status_code == 200
    assert (
        await owner.patch(f"/api/v1/files/{file['id']}", json={"visibility": "private"})
    ).status_code == 200
    refused(await anonymous.get(theirs), "made private")
    assert (await anonymous.get(mine)).status_code == 200  # the owner still may
    assert (await owner.delete(f"/api/v1/files/{file['id']}")).status_code == 200
    refused(await anonymous.get(mine), "deleted")


async def test_bad_image_link_requests_are_422(client: AuthedClient) -> None:
    file = await upload(client, media.jpeg(400, 200))
    text = await upload(client, b"plain words\n", "notes.txt")
    cases = [
        ({"file_id": text["id"], "image": {"w": 10}}, "not an image"),
        ({"cid": file["cid"], "image": {"w": 10}}, "file_id"),
        ({"file_id": file["id"], "image": {}}, "give w, h or both"),
        ({"file_id": file["id"], "image": {"w": 10, "fit": "stretch"}}, "fit must be"),
        ({"file_id": file["id"], "image": {"w": 10, "format": "bmp"}}, "format must be"),
        ({"file_id": file["id"], "image": {"w": 5000}}, "between 1 and"),
    ]
    for body, why in cases:
        reply = await client.post("/api/v1/links", json=body)
        assert reply.status_code == 422, (body, reply.text)
        assert reply.headers["content-type"] == PROBLEM
        assert why in reply.json()["detail"], (body, reply.json())


async def test_links_outlive_a_key_rotation_until_the_key_is_retired(
    client: AuthedClient, settings: Settings
) -> None:
    from api.app import create_app

    file = await upload(client, media.jpeg(400, 200))
    url = await image_link(client, file["id"], w=64)

    async def fetch(conf: Settings) -> int:
        app = create_app(conf)
        async with (
            app.lifespan(),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://mstack.test"
            ) as http,
        ):
            return (await http.get(url)).status_code

    new_key = {"k2": SecretStr("n" * 40)}
    rotated = settings.model_copy(
        update={"link_keys": {**settings.link_keys, **new_key}, "link_key_id": "k2"}
    )
    assert await fetch(rotated) == 200
    assert (
        await fetch(settings.model_copy(update={"link_keys": new_key, "link_key_id": "k2"})) == 403
    )
