"""Derived blobs (previews, ``/image`` results) are readable at ``/blobs/{cid}`` by whoever
may read their source file, and by no one else: real accounts, the app's own worker,
in-process HTTP through the fast path."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import col, select

from mcore.db import Database
from mcore.files.derivatives import INFO, Derivative
from mcore.settings import Settings
from tests import media
from tests.apphelpers import fast
from tests.conftest import AuthedClient, MakeClient, wait_for

pytestmark = pytest.mark.anyio
FILES = "/api/v1/files"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared settings, with the worker running inside the app."""
    tuned = fast(settings)
    tuned.jobs.embedded_worker = True
    return tuned


async def _processed(owner: AuthedClient, data: bytes, name: str) -> dict[str, Any]:
    response = await owner.post(FILES, params={"filename": name}, content=data)
    assert response.status_code == 201, response.text
    record: dict[str, Any] = response.json()[0]

    async def done() -> bool:
        job = (await owner.get(f"/api/v1/jobs/{record['job_id']}")).json()
        return job["state"] in ("succeeded", "failed")

    await wait_for(done, 30)
    file: dict[str, Any] = (await owner.get(f"{FILES}/{record['id']}")).json()
    assert file["status"] == "ready", file
    return file


async def _derived_cids(owner: AuthedClient, file_id: str) -> dict[str, str]:
    """Preview name -> CID as the preview list gives them, plus the ``/image`` result's."""
    previews = await owner.get(f"{FILES}/{file_id}/previews")
    assert previews.status_code == 200, previews.text
    cids = {p["name"]: p["cid"] for p in previews.json()}
    assert {"preview-256", "preview-1024"} <= set(cids)
    image = await owner.get(f"{FILES}/{file_id}/image", params={"w": 40, "format": "png"})
    assert image.status_code == 200, image.text
    cids["image"] = image.headers["etag"].strip('"')
    return cids


async def _status(client: AuthedClient, cid: str) -> int:
    return (await client.get(f"/blobs/{cid}")).status_code


async def test_the_owner_reads_derived_blobs_by_cid(make_client: MakeClient) -> None:
    owner = await make_client("user")
    file = await _processed(owner, media.jpeg(300, 200), "a.jpg")
    for name, cid in (await _derived_cids(owner, file["id"])).items():
        for _ in range(2):  # the second read comes from the fast path's grant
            response = await owner.get(f"/blobs/{cid}")
            assert response.status_code == 200, name
            assert response.headers["content-type"] == (
                "image/png" if name == "image" else "image/webp"
            )
        via_preview = await owner.get(f"{FILES}/{file['id']}/previews/{name}")
        if name != "image":
            assert via_preview.content == response.content


async def test_guests_read_derived_blobs_of_public_files_only_while_public(
    make_client: MakeClient,
) -> None:
    owner, other, anonymous = (
        await make_client("user"),
        await make_client("user"),
        await make_client(None),
    )
    file = await _processed(owner, media.jpeg(300, 200), "b.jpg")
    cids = await _derived_cids(owner, file["id"])
    for cid in cids.values():  # private: nobody else
        assert await _status(other, cid) == 404
        assert await _status(anonymous, cid) == 404

    made_public = await owner.patch(f"{FILES}/{file['id']}", json={"visibility": "public"})
    assert made_public.status_code == 200
    for cid in cids.values():
        for _ in range(2):  # the second read is granted from the fast path's cache
            assert await _status(other, cid) == 200
            assert await _status(anonymous, cid) == 200

    made_private = await owner.patch(f"{FILES}/{file['id']}", json={"visibility": "private"})
    assert made_private.status_code == 200
    for cid in cids.values():  # withdrawn at once, cached grants included
        assert await _status(other, cid) == 404
        assert await _status(anonymous, cid) == 404
        assert await _status(owner, cid) == 200

    assert (await owner.delete(f"{FILES}/{file['id']}")).status_code == 200
    for cid in cids.values():  # a trashed source lends nothing, to its owner neither
        assert await _status(owner, cid) == 404


async def test_a_processors_findings_are_never_served(
    make_client: MakeClient, settings: Settings
) -> None:
    owner = await make_client("user")
    file = await _processed(owner, media.jpeg(300, 200, gps=(45.5, 6.25)), "c.jpg")
    assert (await owner.patch(f"{FILES}/{file['id']}", json={"visibility": "public"})).is_success
    database = Database(settings)
    try:
        async with database.session() as session:
            query = select(Derivative.cid).where(
                col(Derivative.source_cid) == file["cid"], col(Derivative.name) == INFO
            )
            info_cids = (await session.exec(query)).all()
    finally:
        await database.dispose()
    assert len(info_cids) == 2  # the previews' findings (with the GPS position), the copy's
    anonymous = await make_client(None)
    for info_cid in info_cids:
        assert await _status(owner, info_cid) == 404
        assert await _status(anonymous, info_cid) == 404
