"""``GET /files/{id}/image`` (on the fly, cached) and ``POST /files/zip`` (streamed)."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from typing import Any

import pytest
import pyvips
from sqlmodel import col, select

from mcore.access import Actor, Role
from mcore.db import Database
from mcore.errors import NotFound
from mcore.files.derivatives import Derivative
from mcore.files.zips import plan_zip
from mcore.settings import Settings
from mcore.storage import LocalBlobStore
from tests import media
from tests.apphelpers import fast, running_app
from tests.conftest import temp_files

pytestmark = pytest.mark.anyio


async def _report(app: Any) -> dict[str, Any]:
    return dict((await app.http.get("/api/v1/images/cache")).json())


async def test_resize_and_convert_with_a_cache(settings: Settings, db: Database) -> None:
    async with running_app(fast(settings), worker=False) as app:
        record = await app.upload(media.jpeg(800, 400), "wide.jpg")
        url = f"/api/v1/files/{record['id']}/image"
        first = await app.http.get(url, params={"w": 200, "format": "png"})
        assert first.status_code == 200
        assert first.headers["x-cache"] == "miss"
        assert first.headers["content-type"] == "image/png"
        image = pyvips.Image.new_from_buffer(first.content, "")
        assert (image.width, image.height) == (200, 100)
        second = await app.http.get(url, params={"w": 200, "format": "png", "q": 5})
        assert second.headers["x-cache"] == "hit"  # q means nothing for PNG: same entry
        assert second.content == first.content
        cover = await app.http.get(
            url, params={"w": 100, "h": 100, "fit": "cover", "format": "jpeg", "q": 60}
        )
        assert cover.headers["content-type"] == "image/jpeg"
        image = pyvips.Image.new_from_buffer(cover.content, "")
        assert (image.width, image.height) == (100, 100)
        avif = await app.http.get(url, params={"w": 300, "format": "avif", "q": 50})
        assert avif.status_code == 200
        assert avif.headers["content-type"] == "image/avif"
        assert avif.headers["content-disposition"].startswith("inline")
        image = pyvips.Image.new_from_buffer(avif.content, "")
        assert (image.width, image.height, image.get("heif-compression")) == (300, 150, "av1")
        report = await _report(app)
        assert (report["hits"], report["misses"], report["entries"]) == (1, 3, 3)
        previews = (await app.http.get(f"/api/v1/files/{record['id']}/previews")).json()
        assert previews == []  # cached results are not previews
    async with db.session() as session:
        rows = (await session.exec(select(Derivative))).all()
        assert all(r.transient for r in rows)
    assert temp_files(settings) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "w"),
        ({"w": 0}, "w"),
        ({"w": 5000}, "w"),
        ({"h": -3}, "h"),
        ({"w": 10, "fit": "stretch"}, "fit"),
        ({"w": 10, "format": "gif"}, "format"),
        ({"w": 10, "format": "heic"}, "format"),
        ({"w": 10, "q": 0}, "q"),
        ({"w": 10, "q": 101}, "q"),
    ],
)
async def test_parameters_come_from_a_whitelist(
    settings: Settings, params: dict[str, Any], field: str
) -> None:
    async with running_app(fast(settings), worker=False) as app:
        record = await app.upload(media.jpeg(50, 50), "a.jpg")
        response = await app.http.get(f"/api/v1/files/{record['id']}/image", params=params)
        assert response.status_code == 422
        problem = response.json()
        assert response.headers["content-type"] == "application/problem+json"
        assert problem["errors"][0]["field"] == field


async def test_bad_sources_get_clear_errors(settings: Settings) -> None:
    async with running_app(fast(settings), worker=False) as app:
        missing = await app.http.get("/api/v1/files/01m8632vvw85bf92ebzhdaefd9/image?w=10")
        assert missing.status_code == 404
        text = await app.upload(b"hello\n", "a.txt")
        not_image = await app.http.get(f"/api/v1/files/{text['id']}/image?w=10")
        assert not_image.status_code == 422
        assert "not an image" in not_image.json()["detail"]
        bomb = await app.upload(media.png_bomb(), "bomb.png")
        refused = await app.http.get(f"/api/v1/files/{bomb['id']}/image?w=10")
        assert refused.status_code == 422
        assert "100000x100000" in refused.json()["detail"]
        assert (await app.http.get("/health")).status_code == 200
    assert temp_files(settings) == []


async def test_least_recently_used_go_first_and_old_entries_are_remade(
    settings: Settings, frozen_clock: Any
) -> None:
    # (moves the clock less than the access token's 15 minutes)
    tuned = fast(settings, image_cache_max_age=timedelta(minutes=5))
    store = LocalBlobStore(tuned.blob_dir, tuned.tmp_dir)
    async with running_app(tuned, worker=False) as app:
        record = await app.upload(media.jpeg(600, 600), "a.jpg")
        url = f"/api/v1/files/{record['id']}/image"

        async def get(w: int) -> Any:
            response = await app.http.get(url, params={"w": w, "format": "png"})
            assert response.status_code == 200
            return response

        a = await get(64)
        frozen_clock.offset += 61  # past the minute between last-used writes
        b = await get(65)
        frozen_clock.offset += 61  # past the minute between last-used writes
        assert (await get(64)).headers["x-cache"] == "hit"  # a is now the most recent
        cap = (await _report(app))["bytes"]
        tuned.media.image_cache_max_bytes = cap
        frozen_clock.offset += 61  # past the minute between last-used writes
        await get(16)  # smaller than b: evicting b alone makes room
        report = await _report(app)
        assert report["evictions"] == 1
        assert report["entries"] == 2
        b_cid = b.headers["etag"].strip('"')
        assert not await store.exists(b_cid)  # its blob went with it
        assert await store.exists(a.headers["etag"].strip('"'))
        assert (await get(64)).headers["x-cache"] == "hit"
        assert (await get(65)).headers["x-cache"] == "miss"

        tuned.media.image_cache_max_bytes = 10**9
        entries = (await _report(app))["entries"]
        frozen_clock.offset += tuned.media.image_cache_max_age.total_seconds() + 1
        again = await get(64)
        assert again.headers["x-cache"] == "miss"  # too old: made anew
        assert again.content == a.content
        assert (await _report(app))["entries"] == entries  # the old entry was replaced


async def test_zip_is_streamed_with_unique_names_and_previews(settings: Settings) -> None:
    async with running_app(fast(settings)) as app:
        one = await app.upload(media.jpeg(300, 200, (10, 20, 30)), "photo.jpg")
        two = await app.upload(media.jpeg(300, 200, (90, 20, 30)), "photo.jpg")
        notes = await app.upload(b"some notes\n", "notes.txt")
        await app.finished(one["job_id"])
        await app.finished(two["job_id"])
        response = await app.http.post(
            "/api/v1/files/zip", json={"ids": [one["id"], two["id"], notes["id"]]}
        )
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/zip"
        assert "content-length" not in response.headers  # streamed as it is built
        archive = zipfile.ZipFile(io.BytesIO(response.content))
        assert archive.testzip() is None
        assert archive.namelist() == ["photo.jpg", "photo (2).jpg", "notes.txt"]
        originals = [
            (await app.http.get(f"/api/v1/files/{r['id']}/content")).content
            for r in (one, two, notes)
        ]
        assert [archive.read(n) for n in archive.namelist()] == originals

        with_previews = await app.http.post(
            "/api/v1/files/zip", json={"ids": [one["id"]], "previews": True}
        )
        names = zipfile.ZipFile(io.BytesIO(with_previews.content)).namelist()
        assert names == [
            "photo.jpg",
            "previews/photo.jpg.preview-1024.webp",
            "previews/photo.jpg.preview-256.webp",
        ]


async def test_zip_refuses_what_cannot_be_read(settings: Settings, db: Database) -> None:
    async with running_app(fast(settings), worker=False) as app:
        mine = await app.upload(b"private\n", "mine.txt")
        unknown = await app.http.post(
            "/api/v1/files/zip", json={"ids": [mine["id"], "01m8632vvw85bf92ebzhdaefd9"]}
        )
        assert unknown.status_code == 404
        assert unknown.headers["content-type"] == "application/problem+json"
        empty = await app.http.post("/api/v1/files/zip", json={"ids": []})
        assert empty.status_code == 422
        too_many = await app.http.post("/api/v1/files/zip", json={"ids": ["x"] * 1001})
        assert too_many.status_code == 422
    other = Actor(id="someone-else", role=Role.user)
    async with db.session() as session:
        with pytest.raises(NotFound):
            await plan_zip(session, actor=other, file_ids=[mine["id"]], previews=False)


async def test_image_cache_report_is_for_admins(settings: Settings, db: Database) -> None:
    from mcore.errors import Forbidden
    from mcore.media.imagecache import CacheStats, cache_report

    with pytest.raises(Forbidden):
        await cache_report(db, settings, CacheStats(), actor=Actor(id="u", role=Role.user))
    async with db.session() as session:
        assert (await session.exec(select(Derivative).where(col(Derivative.transient)))).all() == []
