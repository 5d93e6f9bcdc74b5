"""Upload -> job -> previews, end to end through the real app and its in-process worker."""

from __future__ import annotations

from typing import Any

import pytest
import pyvips
from sqlmodel import col, func, select

from mcore.access import Actor, Role, Visibility
from mcore.db import Database
from mcore.errors import Conflict, Forbidden, NotFound
from mcore.events import Event
from mcore.files import ops as file_ops
from mcore.files.derivatives import Derivative
from mcore.files.models import File, FileUpdate, to_read
from mcore.files.ops import update_file
from mcore.jobs import ops
from mcore.refs import BlobRef
from mcore.settings import Settings
from tests import media
from tests.apphelpers import fast, running_app
from tests.conftest import blob_files, temp_files

OTHER = Actor(id="someone-else", role=Role.user)


async def _events(db: Database, user: str) -> list[Event]:
    async with db.session() as session:
        rows = (await session.exec(select(Event).where(col(Event.user_id) == user))).all()
        session.expunge_all()
        return list(rows)


async def test_upload_answers_at_once_then_previews_follow(
    settings: Settings, db: Database
) -> None:
    data = media.jpeg(1600, 1200, orientation=6, gps=(48.8566, 2.3522), camera="Canon EOS R5")
    async with running_app(fast(settings)) as app:
        record = await app.upload(data, "paris.jpg")
        assert record["status"] in ("queued", "processing", "ready")
        assert record["job_id"]
        job = await app.finished(record["job_id"])
        assert job["state"] == "succeeded"
        assert job["progress"] == 100
        assert job["attempts"] == 1
        assert job["file_id"] == record["id"]
        assert job["result"]["derivatives"] == ["preview-1024", "preview-256"]
        file = await app.file(record["id"])
        assert file["status"] == "ready"
        assert file["media"]["width"] == 1600
        assert file["media"]["display_width"] == 1200
        assert file["media"]["capture"]["camera_model"] == "Canon EOS R5"
        assert file["media"]["placeholder"]
        assert file["gps"] == {
            "latitude": pytest.approx(48.8566, abs=1e-4),
            "longitude": pytest.approx(2.3522, abs=1e-4),
        }
        assert file["processing"] == {"profile": "image", "status": "done", "warnings": []}

        previews = (await app.http.get(f"/api/v1/files/{record['id']}/previews")).json()
        by_name = {p["name"]: p for p in previews}
        assert set(by_name) == {"preview-256", "preview-1024"}
        assert (by_name["preview-1024"]["width"], by_name["preview-1024"]["height"]) == (768, 1024)
        response = await app.http.get(by_name["preview-256"]["url"])
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/webp"
        assert response.headers["etag"] == f'"{by_name["preview-256"]["cid"]}"'
        disposition = response.headers["content-disposition"]
        assert 'filename="paris.preview-256.webp"' in disposition
        preview = pyvips.Image.new_from_buffer(response.content, "")
        assert (preview.width, preview.height) == (192, 256)
        assert b"Canon" not in response.content
        assert (
            await app.http.get(f"/api/v1/files/{record['id']}/previews/nope")
        ).status_code == 404
        original = await app.http.get(f"/api/v1/files/{record['id']}/content")
        assert original.content == data

    types = [e.type for e in await _events(db, app.user_id)]
    assert types[0] == "file.stored"
    assert "job.progress" in types
    assert types[-1] == "file.ready"
    async with db.session() as session:
        rows = (await session.exec(select(Derivative))).all()
        refs = (await session.exec(select(BlobRef).where(col(BlobRef.kind) == "derived"))).all()
        session.expunge_all()
    # the previews and their info; the copy without GPS and camera, and its own info
    assert sorted((r.processor, r.name) for r in rows) == [
        ("image", "info"),
        ("image", "preview-1024"),
        ("image", "preview-256"),
        ("image.public", "info"),
        ("image.public", "stripped"),
    ]
    assert {r.ref_id for r in refs} == {r.id for r in rows}
    assert len(blob_files(settings)) == 1 + 5
    assert temp_files(settings) == []


async def test_same_bytes_are_processed_once(settings: Settings, db: Database) -> None:
    data = media.jpeg(800, 600)
    async with running_app(fast(settings)) as app:
        first = await app.upload(data, "a.jpg")
        await app.finished(first["job_id"])
        second = await app.upload(data, "copy of a.jpg")
        job = await app.finished(second["job_id"])
        assert job["state"] == "succeeded"
        file = await app.file(second["id"])
        assert file["status"] == "ready"
        assert file["media"]["width"] == 800
        listed = (await app.http.get(f"/api/v1/files/{second['id']}/previews")).json()
        assert len(listed) == 2
    async with db.session() as session:
        count = (await session.exec(select(func.count()).select_from(Derivative))).one()
    assert count == 4  # one set for one source: 2 previews + info, and the public copy's info


async def test_other_types_are_stored_without_a_job(settings: Settings) -> None:
    async with running_app(fast(settings)) as app:
        record = await app.upload(b"just some notes\n", "notes.txt")
        assert record["status"] == "stored"
        assert record["job_id"] is None
        assert (await app.http.get(f"/api/v1/files/{record['id']}/previews")).json() == []


async def test_tiff_libvips_cannot_decode_gets_pillow_previews_with_a_warning(
    settings: Settings,
) -> None:
    """A multi-page ZSTD TIFF: libvips reads its header but not its pixels; the previews
    come through the Pillow fallback in the sandbox and the file record says so."""
    data = media.tiff_pages([(200, 30, 40), (0, 200, 0)], size=(400, 300))
    async with running_app(fast(settings)) as app:
        record = await app.upload(data, "scan.tif")
        assert record["content_type"] == "image/tiff"
        job = await app.finished(record["job_id"])
        assert job["state"] == "succeeded", job
        file = await app.file(record["id"])
        assert file["status"] == "ready"
        (warning,) = file["processing"]["warnings"]
        assert "made with Pillow" in warning
        assert (file["media"]["width"], file["media"]["frames"]) == (400, 2)
        previews = (await app.http.get(f"/api/v1/files/{record['id']}/previews")).json()
        large = next(p for p in previews if p["name"] == "preview-1024")
        got = await app.http.get(large["url"])
        assert 'filename="scan.preview-1024.webp"' in got.headers["content-disposition"]
        preview = pyvips.Image.new_from_buffer(got.content, "")
        assert (preview.width, preview.height) == (400, 300)
        assert preview.getpoint(300, 200) == pytest.approx([200, 30, 40], abs=4)  # not black
        small = await app.http.get(
            f"/api/v1/files/{record['id']}/image", params={"w": 80, "format": "png"}
        )
        assert small.status_code == 200
        resized = pyvips.Image.new_from_buffer(small.content, "")
        assert (resized.width, resized.height) == (80, 60)
        assert resized.getpoint(60, 40) == pytest.approx([200, 30, 40], abs=4)


async def test_jobs_routes_not_found_and_admin_list(settings: Settings) -> None:
    async with running_app(fast(settings)) as app:
        assert (await app.http.get("/api/v1/jobs/01m8632vvw85bf92ebzhdaefd9")).status_code == 404
        assert (await app.http.get("/api/v1/jobs/not-an-id")).status_code == 404
        retry = await app.http.post("/api/v1/jobs/01m8632vvw85bf92ebzhdaefd9/retry")
        assert retry.status_code == 404
        records = [await app.upload(media.jpeg(64, 64, (i, 0, 0)), f"{i}.jpg") for i in range(3)]
        for record in records:
            await app.finished(record["job_id"])
        page = (await app.http.get("/api/v1/jobs", params={"limit": 2})).json()
        assert [j["id"] for j in page["items"]] == [r["job_id"] for r in records[::-1][:2]]
        rest = (await app.http.get("/api/v1/jobs", params={"cursor": page["next"]})).json()
        assert [j["id"] for j in rest["items"]] == [records[0]["job_id"]]
        assert rest["next"] is None
        done = (await app.http.get("/api/v1/jobs", params={"state": "succeeded"})).json()
        assert len(done["items"]) == 3
        none = (await app.http.get("/api/v1/jobs", params={"state": "failed"})).json()
        assert none["items"] == []
        bad = await app.http.get("/api/v1/jobs", params={"state": "sleeping"})
        assert bad.status_code == 422
        problem = bad.json()
        assert [e["field"] for e in problem["errors"]] == ["state"]
        assert "job_state" not in bad.text
        assert problem["detail"].startswith("state: ")


async def test_admin_retries_a_failed_job(settings: Settings) -> None:
    async with running_app(fast(settings, image_max_pixels=1000)) as app:
        record = await app.upload(media.jpeg(100, 100), "big.jpg")
        job = await app.finished(record["job_id"])
        assert job["state"] == "failed"
        assert job["attempts"] == 1  # over a limit: retrying cannot help
        assert "processes at most" in job["error"]
        assert (await app.file(record["id"]))["status"] == "failed"
        retried = await app.http.post(f"/api/v1/jobs/{job['id']}/retry")
        assert retried.status_code == 200
        assert retried.json()["state"] in ("queued", "running", "failed")
        again = await app.finished(job["id"])
        assert again["state"] == "failed"
        assert again["attempts"] == 1


async def test_permissions_are_checked_in_ops(settings: Settings, db: Database) -> None:
    data = media.jpeg(300, 200, gps=(10.0, 20.0))
    async with running_app(fast(settings)) as app:
        record = await app.upload(data, "private.jpg")
        job_id = record["job_id"]
        await app.finished(job_id)
    async with db.session() as session:
        with pytest.raises(NotFound):
            await ops.get_job(session, actor=OTHER, job_id=job_id)
        with pytest.raises(Forbidden):
            await ops.list_jobs(session, actor=OTHER)
        with pytest.raises(Forbidden):
            await ops.retry_job(session, actor=OTHER, job_id=job_id)
        with pytest.raises(NotFound):
            await file_ops.list_previews(session, actor=OTHER, file_id=record["id"])
        with pytest.raises(NotFound):
            await file_ops.get_preview(
                session, actor=OTHER, file_id=record["id"], name="preview-256"
            )
        with pytest.raises(Forbidden):
            await ops.reprocess(session, actor=OTHER, file_ids=[record["id"]], settings=settings)
    owner = Actor(id=app.user_id, role=Role.admin)
    async with db.session(write=True) as session:
        await update_file(
            session,
            actor=owner,
            file_id=record["id"],
            data=FileUpdate(visibility=Visibility.public),
        )
    async with db.session() as session:
        listed = await file_ops.list_previews(session, actor=OTHER, file_id=record["id"])
        assert {p.name for p in listed} == {"preview-256", "preview-1024"}
        file = await session.get(File, record["id"])
        assert file is not None
        assert to_read(file, actor_id=OTHER.id).gps is None  # GPS is the owner's alone
        assert to_read(file, actor_id=OTHER.id).media is not None
        assert to_read(file, actor_id=owner.id).gps == {"latitude": 10.0, "longitude": 20.0}
        job = await ops.get_job(session, actor=owner, job_id=job_id)
        job.state = "running"
        with pytest.raises(Conflict):
            await ops.retry_job(session, actor=owner, job_id=job_id)


async def test_bulk_reprocessing_runs_on_its_own_lane(settings: Settings, db: Database) -> None:
    async with running_app(fast(settings)) as app:
        record = await app.upload(media.jpeg(200, 200), "a.jpg")
        await app.finished(record["job_id"])
    async with db.session(write=True) as session:
        (job,) = await ops.reprocess(
            session,
            actor=Actor(id="admin", role=Role.admin),
            file_ids=[record["id"]],
            settings=settings,
        )
        job_id = job.id
        assert job.lane == "bulk"
    async with running_app(fast(settings)) as app:
        done: dict[str, Any] = await app.finished(job_id)
        assert done["state"] == "succeeded"
        assert done["lane"] == "bulk"
        assert (await app.file(record["id"]))["job_id"] == job_id


async def test_image_file_records_show_what_processing_found(settings: Settings) -> None:
    """mart's ImageFile reads width, height, format and colour space from the processed file."""
    async with running_app(fast(settings)) as app:
        record = await app.upload(media.jpeg(640, 480), "w.jpg")
        made = await app.http.post("/api/v1/image-files", json={"file": record["cid"]})
        assert made.status_code == 201, made.text
        await app.finished(record["job_id"])
        image_file = (await app.http.get(f"/api/v1/image-files/{made.json()['id']}")).json()
        assert (image_file["width"], image_file["height"]) == (640, 480)
        assert image_file["format"] == "jpeg"
        assert image_file["colour_space"] == "srgb"
        assert image_file["cid"] == made.json()["cid"]  # facts about the bytes are not content


async def test_image_file_records_give_a_portrait_photos_size_as_shown(settings: Settings) -> None:
    """A camera stores a portrait photo sideways with EXIF orientation 6 (turn 90 degrees
    clockwise): its ImageFile gives the size it is shown at, as its previews have it."""
    async with running_app(fast(settings)) as app:
        record = await app.upload(media.jpeg(640, 480, orientation=6), "portrait.jpg")
        made = await app.http.post("/api/v1/image-files", json={"file": record["cid"]})
        assert made.status_code == 201, made.text
        await app.finished(record["job_id"])
        image_file = (await app.http.get(f"/api/v1/image-files/{made.json()['id']}")).json()
        assert (image_file["width"], image_file["height"]) == (480, 640)
        file = await app.file(record["id"])
        assert (file["media"]["width"], file["media"]["height"]) == (640, 480)  # as stored
        previews = (await app.http.get(f"/api/v1/files/{record['id']}/previews")).json()
        largest = next(p for p in previews if p["name"] == "preview-1024")
        assert largest["height"] > largest["width"]
