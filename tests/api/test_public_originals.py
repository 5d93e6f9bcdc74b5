"""A public photo's GPS position stays with its owner: others download a copy without its
personal metadata (its own CID, derived from the original), unless
``media.serve_public_originals`` is on. Real accounts, the app's own worker, libvips."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import httpx
import pytest
import pyvips
from PIL import Image

from mcore.cid import file_cid
from mcore.settings import Settings
from tests import media
from tests.apphelpers import fast, running_app
from tests.conftest import AuthedClient, MakeClient, wait_for

pytestmark = pytest.mark.anyio
FILES = "/api/v1/files"
PARIS = (48.8566, 2.3522)


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """The shared settings with the worker in the app; ``indirect`` parameters turn
    ``media.serve_public_originals`` on."""
    tuned = fast(settings, serve_public_originals=getattr(request, "param", False))
    tuned.jobs.embedded_worker = True
    return tuned


async def _upload(owner: AuthedClient, data: bytes, name: str) -> dict[str, Any]:
    response = await owner.post(FILES, params={"filename": name}, content=data)
    assert response.status_code == 201, response.text
    record: dict[str, Any] = response.json()[0]
    return record


async def _processed(owner: AuthedClient, data: bytes, name: str) -> dict[str, Any]:
    record = await _upload(owner, data, name)

    async def done() -> bool:
        job = (await owner.get(f"/api/v1/jobs/{record['job_id']}")).json()
        return job["state"] in ("succeeded", "failed")

    await wait_for(done, 30)
    made_public = await owner.patch(f"{FILES}/{record['id']}", json={"visibility": "public"})
    assert made_public.status_code == 200, made_public.text
    file: dict[str, Any] = made_public.json()
    assert file["status"] == "ready", file
    return file


def _gps(data: bytes) -> dict[int, Any]:
    """The GPS directory of a JPEG's EXIF block, as Pillow reads it (empty when none)."""
    return dict(Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825))


async def test_others_download_a_public_photo_without_its_gps(make_client: MakeClient) -> None:
    owner, other, anonymous = (
        await make_client("user"),
        await make_client("user"),
        await make_client(None),
    )
    data = media.jpeg(600, 400, orientation=6, gps=PARIS, camera="Canon EOS R5")
    assert _gps(data)  # the test photo carries a position
    file = await _processed(owner, data, "paris.jpg")
    stripped_cid = file["stripped_cid"]
    assert stripped_cid
    assert stripped_cid != file["cid"]
    seen = (await anonymous.get(f"{FILES}/{file['id']}")).json()
    assert seen["stripped_cid"] == stripped_cid  # said on the record, to everyone

    mine = await owner.get(f"{FILES}/{file['id']}/content")
    assert mine.status_code == 200
    assert mine.content == data  # the owner always gets the original
    assert _gps(mine.content)

    for reader in (other, anonymous):
        response = await reader.get(f"{FILES}/{file['id']}/content")
        assert response.status_code == 200, response.text
        served = response.content
        assert _gps(served) == {}
        assert b"Canon" not in served
        assert file_cid(served) == stripped_cid  # the bytes hash to the advertised CID
        assert response.headers["etag"] == f'"{stripped_cid}"'
        assert response.headers["content-type"] == "image/jpeg"
        assert "paris.jpg" in response.headers["content-disposition"]
        shown = pyvips.Image.new_from_buffer(served, "")
        assert (shown.width, shown.height) == (400, 600)  # turned as its orientation said
        assert not shown.get_typeof("exif-data")
        by_cid = await reader.get(f"/blobs/{stripped_cid}")
        assert by_cid.status_code == 200
        assert by_cid.content == served
        # the original's CID is on the record, but its bytes are not handed out by it
        for _ in range(2):  # nor from the fast path's grants
            assert (await reader.get(f"/blobs/{file['cid']}")).status_code == 404
        zipped = await reader.post(f"{FILES}/zip", json={"ids": [file["id"]]})
        assert zipped.status_code == 200
        with zipfile.ZipFile(io.BytesIO(zipped.content)) as archive:
            assert archive.read("paris.jpg") == served

    assert (await owner.get(f"/blobs/{file['cid']}")).content == data
    link = await other.post("/api/v1/links", json={"file_id": file["id"]})
    assert link.status_code == 201, link.text
    linked = await anonymous.get(link.json()["url"])
    assert linked.status_code == 200
    assert file_cid(linked.content) == stripped_cid  # a link gives what its maker gets
    refused = await other.post("/api/v1/links", json={"cid": file["cid"]})
    assert refused.status_code == 404

    made_private = await owner.patch(f"{FILES}/{file['id']}", json={"visibility": "private"})
    assert made_private.status_code == 200
    assert (await anonymous.get(f"/blobs/{stripped_cid}")).status_code == 404
    assert (await anonymous.get(f"{FILES}/{file['id']}/content")).status_code == 404


async def test_a_photo_with_nothing_personal_in_it_is_served_as_it_is(
    make_client: MakeClient,
) -> None:
    owner, anonymous = await make_client("user"), await make_client(None)
    data = media.jpeg(300, 200)
    file = await _processed(owner, data, "plain.jpg")
    assert file["stripped_cid"] is None
    response = await anonymous.get(f"{FILES}/{file['id']}/content")
    assert response.status_code == 200
    assert response.content == data
    assert (await anonymous.get(f"/blobs/{file['cid']}")).content == data


async def test_a_public_image_is_withheld_from_others_until_its_copy_is_made(
    settings: Settings,
) -> None:
    async with running_app(settings, worker=False, role="user") as app:
        anonymous = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app.app), base_url="http://mstack.test"
        )
        async with anonymous:
            record = await app.upload(media.jpeg(300, 200, gps=PARIS), "soon.jpg")
            url = f"{FILES}/{record['id']}"
            assert (await app.http.patch(url, json={"visibility": "public"})).is_success
            assert (await app.file(record["id"]))["status"] == "queued"
            waiting = await anonymous.get(f"{url}/content")
            assert waiting.status_code == 409
            assert waiting.headers["content-type"] == "application/problem+json"
            assert "still being made" in waiting.json()["detail"]
            assert (await anonymous.get(f"/blobs/{record['cid']}")).status_code == 404
            zipped = await anonymous.post(f"{FILES}/zip", json={"ids": [record["id"]]})
            assert zipped.status_code == 409
            assert (await app.http.get(f"{url}/content")).status_code == 200  # the owner's


@pytest.mark.parametrize("settings", [True], indirect=True)
async def test_the_setting_serves_public_originals_as_they_are(make_client: MakeClient) -> None:
    owner, anonymous = await make_client("user"), await make_client(None)
    data = media.jpeg(300, 200, gps=PARIS)
    file = await _processed(owner, data, "as-is.jpg")
    assert file["stripped_cid"]  # made all the same: turning the setting off needs no rework
    response = await anonymous.get(f"{FILES}/{file['id']}/content")
    assert response.status_code == 200
    assert response.content == data
    assert _gps(response.content)
    assert (await anonymous.get(f"/blobs/{file['cid']}")).content == data


async def test_someone_elses_record_lends_only_what_the_public_may_have(
    make_client: MakeClient,
) -> None:
    """Bob links Alice's public photo into his public record: its readers get what the
    public gets of it, the copy, never the original with its GPS position."""
    alice, bob, carol = (
        await make_client("user"),
        await make_client("user"),
        await make_client("user"),
    )
    located = await _processed(alice, media.jpeg(300, 200, gps=PARIS), "where.jpg")
    plain = await _processed(alice, media.jpeg(200, 100), "plain.jpg")
    for file in (located, plain):
        made = await bob.post(
            "/api/v1/image-files", json={"file": file["cid"], "visibility": "public"}
        )
        assert made.status_code == 201, made.text
    assert (await carol.get(f"/blobs/{located['cid']}")).status_code == 404
    assert (await carol.get(f"/blobs/{located['stripped_cid']}")).status_code == 200
    assert (await carol.get(f"/blobs/{plain['cid']}")).status_code == 200  # nothing to strip
