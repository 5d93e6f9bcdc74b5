"""OCR as a transformation of a file (``POST /api/v1/files/{id}/transform``) and on upload
(``media.ocr_on_upload``): real app, real worker, real sandbox and models."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import col, select

from mcore.events import Event
from mcore.files.derivatives import Derivative
from mcore.ids import new_id
from mcore.jobs.models import Job
from mcore.refs import BlobRef
from mcore.settings import Settings
from tests import media
from tests.apphelpers import Running, fast, running_app
from tests.conftest import AuthedClient, MakeClient, temp_files

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("backend", ["sqlite"])]

PAGE_TEXT = "Harbour invoice number 4711\nseven silver candles delivered"


def _words(text: str) -> set[str]:
    return {w.strip(".,:").lower() for w in text.split()}


async def _ocr(app: Running, file_id: str) -> dict[str, Any]:
    reply = await app.http.post(f"/api/v1/files/{file_id}/transform", json={"kind": "ocr"})
    assert reply.status_code == 202, reply.text
    job = reply.json()
    assert (job["kind"], job["state"], job["file_id"]) == ("transform_file", "queued", file_id)
    return await app.finished(job["id"], timeout=120)


async def test_ocr_of_an_image_is_a_derived_text_file(settings: Settings) -> None:
    async with running_app(fast(settings)) as app:
        record = await app.upload(media.text_image(PAGE_TEXT, font="serif 14"), "scan.png")
        assert (await app.finished(record["job_id"]))["state"] == "succeeded"
        job = await _ocr(app, record["id"])
        assert job["state"] == "succeeded", job
        result = job["result"]
        assert result["derivatives"] == ["ocr-text"]
        assert result["info"]["pages_recognized"] == 1
        previews = {
            p["name"]: p
            for p in (await app.http.get(f"/api/v1/files/{record['id']}/previews")).json()
        }
        text_entry = previews["ocr-text"]
        assert (text_entry["processor"], text_entry["version"]) == ("ocr", 1)
        assert text_entry["content_type"] == "text/plain; charset=utf-8"
        assert text_entry["cid"] == result["cid"]
        got = await app.http.get(result["url"])
        assert got.status_code == 200
        assert 'filename="scan.ocr-text.txt"' in got.headers["content-disposition"]
        assert _words(PAGE_TEXT) <= _words(got.text), got.text
        file = await app.file(record["id"])
        assert file["status"] == "ready"  # a later transformation leaves the file as it was

        again = await _ocr(app, record["id"])  # made once: asked again, it is found
        assert again["result"]["cid"] == result["cid"]
        assert again["result"]["info"]["reused"] is True
        async with app.app.state.db.session() as session:
            rows = (
                await session.exec(select(Derivative).where(col(Derivative.processor) == "ocr"))
            ).all()
            assert sorted(r.name for r in rows) == ["info", "ocr-text"]
            text_row = next(r for r in rows if r.name == "ocr-text")
            assert text_row.source_cid == record["cid"]
            assert text_row.params["engine"] == "rapidocr"
            refs = (
                await session.exec(select(BlobRef).where(col(BlobRef.cid) == text_row.cid))
            ).all()
            assert [(r.kind, r.ref_id) for r in refs] == [("derived", text_row.id)]
            events = (
                await session.exec(
                    select(Event).where(col(Event.type) == "job.progress").order_by(col(Event.id))
                )
            ).all()
        ours = [e.payload for e in events if e.payload["job_id"] == job["id"]]
        assert ours[0]["state"] == "running"
        assert ours[-1]["state"] == "succeeded"
        assert ours[-1]["result"]["cid"] == result["cid"]
    assert temp_files(settings) == []


async def test_ocr_of_a_pdf_reads_scanned_pages_and_leaves_text_pages_to_the_text_layer(
    settings: Settings,
) -> None:
    page = media.text_image(PAGE_TEXT, font="sans 12", dpi=200, format="jpeg")
    async with running_app(fast(settings)) as app:
        scan = await app.upload(media.pdf_scan(page), "scan.pdf")
        typed = await app.upload(media.pdf("Invoice number", pages=2), "typed.pdf")
        for record in (scan, typed):
            assert (await app.finished(record["job_id"]))["state"] == "succeeded"
        job = await _ocr(app, scan["id"])
        assert job["state"] == "succeeded", job
        info = job["result"]["info"]
        assert (info["pages"], info["pages_recognized"], info["pages_with_text_layer"]) == (1, 1, 0)
        text = (await app.http.get(job["result"]["url"])).text
        assert _words(PAGE_TEXT) <= _words(text), text

        job = await _ocr(app, typed["id"])
        assert job["state"] == "succeeded", job
        info = job["result"]["info"]
        assert (info["pages"], info["pages_recognized"], info["pages_with_text_layer"]) == (2, 0, 2)
        assert (await app.http.get(job["result"]["url"])).text == "\f"  # two empty pages
    assert temp_files(settings) == []


async def test_a_failed_ocr_job_leaves_the_file_ready_and_nothing_behind(
    settings: Settings,
) -> None:
    async with running_app(fast(settings, ocr_max_pages=1)) as app:
        record = await app.upload(media.pdf("Two pages", pages=2), "two.pdf")
        assert (await app.finished(record["job_id"]))["state"] == "succeeded"
        blobs_before = sorted(p.name for p in settings.blob_dir.rglob("*") if p.is_file())
        job = await _ocr(app, record["id"])
        assert job["state"] == "failed", job
        assert "at most 1" in job["error"]
        file = await app.file(record["id"])
        assert (file["status"], file["job_id"]) == ("ready", record["job_id"])
        names = {
            p["name"] for p in (await app.http.get(f"/api/v1/files/{record['id']}/previews")).json()
        }
        assert "ocr-text" not in names
        assert sorted(p.name for p in settings.blob_dir.rglob("*") if p.is_file()) == blobs_before
    assert temp_files(settings) == []


async def test_ocr_on_upload_follows_processing_when_the_setting_is_on(
    settings: Settings,
) -> None:
    async with running_app(fast(settings, ocr_on_upload=True)) as app:
        record = await app.upload(media.text_image(PAGE_TEXT), "note.png")
        other = await app.upload(b"just some text\n", "note.txt")
        assert (await app.finished(record["job_id"]))["state"] == "succeeded"
        async with app.app.state.db.session() as session:
            jobs = (await session.exec(select(Job).where(col(Job.kind) == "transform_file"))).all()
        assert [(j.file_id, j.lane, j.owner_id) for j in jobs] == [
            (record["id"], "bulk", app.user_id)
        ]
        assert other["job_id"] is None
        done = await app.finished(jobs[0].id, timeout=120)
        assert done["state"] == "succeeded", done
        assert _words(PAGE_TEXT) <= _words((await app.http.get(done["result"]["url"])).text)


async def _transform_jobs(app: Any) -> list[Job]:
    async with app.state.db.session() as session:
        query = select(Job).where(col(Job.kind) == "transform_file")
        return list((await session.exec(query)).all())


async def test_who_may_ask_for_ocr_and_what_is_refused(
    server_app: Any, make_client: MakeClient
) -> None:
    owner, other = await make_client("user"), await make_client("user")
    anonymous = await make_client(None)

    async def upload(client: AuthedClient, data: bytes, name: str) -> dict[str, Any]:
        reply = await client.post("/api/v1/files", params={"filename": name}, content=data)
        assert reply.status_code == 201, reply.text
        return dict(reply.json()[0])

    image = await upload(owner, media.text_image("private words"), "private.png")
    text = await upload(owner, b"plain text\n", "notes.txt")
    url = f"/api/v1/files/{image['id']}/transform"

    hidden = await other.post(url, json={"kind": "ocr"})
    assert hidden.status_code == 404
    assert hidden.headers["content-type"] == "application/problem+json"
    assert (await anonymous.post(url, json={"kind": "ocr"})).status_code == 404
    missing = await owner.post(f"/api/v1/files/{new_id()}/transform", json={"kind": "ocr"})
    assert missing.status_code == 404

    bad = await owner.post(url, json={"kind": "sharpen"})
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert "ocr" in bad.json()["detail"]
    assert (await owner.post(url, json={})).status_code in (400, 422)
    wrong_type = await owner.post(f"/api/v1/files/{text['id']}/transform", json={"kind": "ocr"})
    assert wrong_type.status_code == 422
    assert "text/plain" in wrong_type.json()["detail"]

    key = await owner.post("/api/v1/auth/keys", json={"name": "reader", "scopes": ["files:read"]})
    assert key.status_code == 201, key.text
    reader = {"Authorization": f"Bearer {key.json()['key']}"}
    refused = await owner.post(url, json={"kind": "ocr"}, headers=reader)
    assert refused.status_code == 403
    assert "files:write" in refused.json()["detail"]
    assert await _transform_jobs(server_app) == []

    first = await owner.post(url, json={"kind": "ocr"})
    assert first.status_code == 202, first.text
    same = await owner.post(url, json={"kind": "ocr"})  # still queued: the same job
    assert same.json()["id"] == first.json()["id"]
    assert (await other.get(f"/api/v1/jobs/{first.json()['id']}")).status_code == 404

    made_public = await owner.patch(f"/api/v1/files/{image['id']}", json={"visibility": "public"})
    assert made_public.status_code == 200, made_public.text
    assert (await anonymous.post(url, json={"kind": "ocr"})).status_code == 401
    theirs = await other.post(url, json={"kind": "ocr"})  # a reader may ask; the job is theirs
    assert theirs.status_code == 202, theirs.text
    assert theirs.json()["id"] != first.json()["id"]
    assert (await other.get(f"/api/v1/jobs/{theirs.json()['id']}")).status_code == 200
    assert (await owner.get(f"/api/v1/jobs/{theirs.json()['id']}")).status_code == 404
    assert len(await _transform_jobs(server_app)) == 2
