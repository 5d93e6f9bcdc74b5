"""Who may see jobs, previews, on-the-fly images, zips and events: real accounts, real HTTP
(in-process), the app's own worker."""

from __future__ import annotations

from typing import Any

import pytest

from mcore.settings import Settings
from tests import media
from tests.apphelpers import fast
from tests.conftest import AuthedClient, MakeClient, wait_for

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared settings, with the worker running inside the app."""
    tuned = fast(settings)
    tuned.jobs.embedded_worker = True
    return tuned


async def _processed(owner: AuthedClient, data: bytes, name: str) -> dict[str, Any]:
    response = await owner.post("/api/v1/files", params={"filename": name}, content=data)
    assert response.status_code == 201, response.text
    record: dict[str, Any] = response.json()[0]

    async def done() -> bool:
        job = (await owner.get(f"/api/v1/jobs/{record['job_id']}")).json()
        return job["state"] in ("succeeded", "failed")

    await wait_for(done, 30)
    return record


async def test_jobs_are_seen_by_their_owner_and_admins(make_client: MakeClient) -> None:
    owner, other, admin = (
        await make_client("user"),
        await make_client("user"),
        await make_client("admin"),
    )
    record = await _processed(owner, media.jpeg(200, 100), "a.jpg")
    job_url = f"/api/v1/jobs/{record['job_id']}"
    assert (await owner.get(job_url)).json()["state"] == "succeeded"
    assert (await admin.get(job_url)).status_code == 200
    hidden = await other.get(job_url)
    assert hidden.status_code == 404
    assert hidden.headers["content-type"] == "application/problem+json"
    assert (await other.get("/api/v1/jobs")).status_code == 403
    assert (await owner.get("/api/v1/jobs")).status_code == 403
    assert (await owner.post(f"{job_url}/retry")).status_code == 403
    assert len((await admin.get("/api/v1/jobs")).json()["items"]) == 1
    retried = await admin.post(f"{job_url}/retry")
    assert retried.status_code == 200
    assert (await admin.post(f"{job_url}/retry")).status_code in (200, 409)
    assert (await owner.get("/api/v1/images/cache")).status_code == 403
    assert (await admin.get("/api/v1/images/cache")).status_code == 200


async def test_private_media_stays_private_and_gps_stays_with_the_owner(
    make_client: MakeClient,
) -> None:
    owner, other, anonymous = (
        await make_client("user"),
        await make_client("user"),
        await make_client(None),
    )
    record = await _processed(owner, media.jpeg(300, 200, gps=(45.5, 6.25)), "where.jpg")
    file_id = record["id"]
    private_urls = [
        f"/api/v1/files/{file_id}/previews",
        f"/api/v1/files/{file_id}/previews/preview-256",
        f"/api/v1/files/{file_id}/image?w=50",
    ]
    for url in private_urls:
        assert (await owner.get(url)).status_code == 200, url
        assert (await other.get(url)).status_code == 404, url
        assert (await anonymous.get(url)).status_code == 404, url
    refused = await other.post("/api/v1/files/zip", json={"ids": [file_id]})
    assert refused.status_code == 404
    assert (await owner.get(f"/api/v1/files/{file_id}")).json()["gps"] == {
        "latitude": pytest.approx(45.5, abs=1e-4),
        "longitude": pytest.approx(6.25, abs=1e-4),
    }

    made_public = await owner.patch(f"/api/v1/files/{file_id}", json={"visibility": "public"})
    assert made_public.status_code == 200
    for url in private_urls:
        assert (await other.get(url)).status_code == 200, url
        assert (await anonymous.get(url)).status_code == 200, url
    seen = (await other.get(f"/api/v1/files/{file_id}")).json()
    assert seen["gps"] is None  # GPS is shown to the owner only
    assert seen["media"]["width"] == 300
    assert "gps" not in str(seen["media"])
    zipped = await anonymous.post("/api/v1/files/zip", json={"ids": [file_id], "previews": True})
    assert zipped.status_code == 200


async def test_guests_cannot_upload_and_are_not_sent_events(make_client: MakeClient) -> None:
    anonymous = await make_client(None)
    refused = await anonymous.post(
        "/api/v1/files", params={"filename": "a.jpg"}, content=media.jpeg(10, 10)
    )
    assert refused.status_code in (401, 403)
    assert refused.headers["content-type"] == "application/problem+json"
