"""The whole server on the S3 backend (moto's S3 server on loopback): uploads, downloads
with ranges, dedupe, previews made by the worker, and clear answers when the store fails.
The bucket is checked from outside with boto3."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import col, select

from mcore.cid import file_cid
from mcore.refs import BlobRef
from mcore.settings import Settings, StorageSettings
from mcore.storage.s3 import S3BlobStore
from tests import media
from tests.apphelpers import fast, running_app
from tests.conftest import free_port, temp_files
from tests.s3server import ACCESS_KEY, SECRET_KEY, keys, multipart_uploads

PROBLEM = "application/problem+json"


@pytest.fixture
def backend() -> str:
    return "sqlite"


def bucket_keys(settings: Settings) -> list[str]:
    storage = settings.storage
    assert storage.s3_endpoint
    assert storage.s3_bucket
    return keys(storage.s3_endpoint, storage.s3_bucket)


async def test_upload_download_dedupe_and_previews_on_s3(s3_settings: Settings) -> None:
    photo = media.jpeg(1200, 800)
    async with running_app(fast(s3_settings)) as app:
        record = await app.upload(photo, "harbour.jpg")
        assert record["cid"] == file_cid(photo)
        again = await app.upload(photo, "copy.jpg")
        assert again["cid"] == record["cid"]
        job = await app.finished(record["job_id"])
        assert job["state"] == "succeeded", job
        r = await app.http.get(f"/api/v1/files/{record['id']}/content")
        assert r.status_code == 200
        assert r.content == photo
        assert r.headers["etag"] == f'"{record["cid"]}"'
        r = await app.http.get(
            f"/api/v1/files/{record['id']}/content", headers={"Range": "bytes=100-199"}
        )
        assert r.status_code == 206
        assert r.content == photo[100:200]
        r = await app.http.get(f"/blobs/{record['cid']}")
        assert r.status_code == 200
        assert r.content == photo
        previews = (await app.http.get(f"/api/v1/files/{record['id']}/previews")).json()
        assert previews
        for preview in previews:
            r = await app.http.get(f"/api/v1/files/{record['id']}/previews/{preview['name']}")
            assert r.status_code == 200, r.text
            assert file_cid(r.content) == preview["cid"]
        async with app.app.state.db.session() as session:
            referenced = set((await session.exec(select(col(BlobRef.cid)))).all())
    # every referenced blob once (the original, its previews), nothing left under tmp/
    assert {record["cid"]} | {p["cid"] for p in previews} <= referenced
    expected = sorted("archive/" + S3BlobStore.key_for(c) for c in referenced)
    assert bucket_keys(s3_settings) == expected
    assert temp_files(s3_settings) == []


async def test_a_refused_upload_leaves_nothing_in_the_bucket(s3_settings: Settings) -> None:
    async with running_app(fast(s3_settings)) as app:
        r = await app.http.post(
            "/api/v1/files",
            params={"filename": "a.txt", "cid": file_cid(b"other")},
            content=b"x" * (7 * 1024 * 1024),
        )
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == PROBLEM
    assert bucket_keys(s3_settings) == []
    storage = s3_settings.storage
    assert storage.s3_endpoint
    assert storage.s3_bucket
    assert multipart_uploads(storage.s3_endpoint, storage.s3_bucket) == []


async def test_a_store_that_is_down_answers_503(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    storage = StorageSettings(
        backend="s3",
        s3_endpoint=f"http://127.0.0.1:{free_port()}",
        s3_bucket="gone",
        s3_max_retries=1,
        s3_retry_timeout="PT1S",  # type: ignore[arg-type]
    )
    down = settings.model_copy(update={"storage": storage})
    async with running_app(fast(down), worker=False) as app:
        r = await app.http.post(
            "/api/v1/files", params={"filename": "a.bin"}, content=b"z" * (3 * 1024 * 1024)
        )
        assert r.status_code == 503, r.text
        assert r.headers["content-type"] == PROBLEM
        assert int(r.headers["retry-after"]) > 0
        assert "blob store" in r.json()["detail"]
        assert SECRET_KEY not in r.text
        listed = await app.http.get("/api/v1/files")
        assert listed.json()["items"] == []  # no record of what was not stored
    logged = capfd.readouterr().err
    assert "blob store failed" in logged
    assert SECRET_KEY not in logged
    assert ACCESS_KEY not in logged


async def test_presigned_downloads_redirect_after_the_access_check(
    s3_settings: Settings,
) -> None:
    storage = s3_settings.storage.model_copy(
        update={"presigned_downloads": True, "presigned_min_size": 1000}
    )
    settings = s3_settings.model_copy(update={"storage": storage})
    big, small = b"B" * 5000, b"small"
    async with running_app(fast(settings), worker=False) as app:
        record = await app.upload(big, "big.bin")
        tiny = await app.upload(small, "small.bin")
        r = await app.http.get(f"/api/v1/files/{record['id']}/content")
        assert r.status_code == 307
        assert r.headers["cache-control"] == "private, no-store"
        location = r.headers["location"]
        assert location.startswith(storage.s3_endpoint or "")
        assert "X-Amz-Signature" in location
        async with httpx.AsyncClient() as outside:  # no credentials of ours
            fetched = await outside.get(location)
            assert fetched.status_code == 200
            assert fetched.content == big
            ranged = await outside.get(location, headers={"Range": "bytes=10-19"})
            assert ranged.status_code == 206
            assert ranged.content == big[10:20]
        # below the threshold the server streams as before
        r = await app.http.get(f"/api/v1/files/{tiny['id']}/content")
        assert r.status_code == 200
        assert r.content == small
        # a cached copy still gets its 304 without a redirect
        r = await app.http.get(
            f"/blobs/{record['cid']}", headers={"If-None-Match": f'"{record["cid"]}"'}
        )
        assert r.status_code == 304
        # nobody else gets a URL: the access check comes first
        anon = await app.http.get(
            f"/api/v1/files/{record['id']}/content", headers={"Authorization": ""}
        )
        assert anon.status_code in (401, 404)
        assert "location" not in anon.headers


async def test_a_resumable_upload_goes_into_the_bucket(s3_settings: Settings) -> None:
    """tus on S3: the bytes are staged on local disk while they arrive, then go into the
    bucket under their CID as any upload's do; nothing is left locally or under tmp/."""
    data = bytes(range(256)) * 4096 * 3  # 3 MiB
    tus = {"Tus-Resumable": "1.0.0"}
    async with running_app(fast(s3_settings), worker=False) as app:
        created = await app.http.post(
            "/api/v1/uploads", headers={**tus, "Upload-Length": str(len(data))}
        )
        assert created.status_code == 201, created.text
        location = created.headers["location"]
        patch = {**tus, "Content-Type": "application/offset+octet-stream"}
        for start in (0, 1024 * 1024):
            end = start + 1024 * 1024 if start == 0 else len(data)
            r = await app.http.patch(
                location, content=data[start:end], headers={**patch, "Upload-Offset": str(start)}
            )
            assert r.status_code == 204, r.text
        assert r.headers["upload-cid"] == file_cid(data)
        content = await app.http.get(f"/api/v1/files/{r.headers['upload-file-id']}/content")
        assert content.content == data
    assert bucket_keys(s3_settings) == ["archive/" + S3BlobStore.key_for(file_cid(data))]
    assert list((s3_settings.tmp_dir / "uploads").iterdir()) == []
