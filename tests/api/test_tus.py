"""Resumable uploads (tus 1.0) at /api/v1/uploads: the protocol, its extensions, its limits,
and that a finished upload is the same file record an ordinary upload makes."""

from __future__ import annotations

import base64
import hashlib
import io
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import blake3
import httpx
from PIL import Image
from sqlmodel import select

from mcore.cid import RAW, cid_from_digest
from mcore.clock import utcnow
from mcore.db import Database
from mcore.events.log import Event
from mcore.files.models import File
from mcore.jobs.models import Job
from mcore.maintenance import collect_garbage
from mcore.settings import Settings
from mcore.storage import LocalBlobStore
from mcore.uploads import resumable
from mcore.uploads.models import Upload
from tests.conftest import LiveServer, MakeClient, blob_files
from tests.webkit import page_token, sign_in

UPLOADS = "/api/v1/uploads"
TUS = {"Tus-Resumable": "1.0.0"}
OFFSET = "application/offset+octet-stream"


def cid_of(data: bytes) -> str:
    return cid_from_digest(blake3.blake3(data).digest(), RAW)


def meta(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def body(size: int, seed: int = 7) -> bytes:
    block = hashlib.sha256(str(seed).encode()).digest() * 4096  # 128 KiB, not all one byte
    return (block * (size // len(block) + 1))[:size]


def noise_png() -> bytes:
    buf = io.BytesIO()
    pixels = random.Random(7).randbytes(400 * 400 * 3)  # noise does not compress
    Image.frombytes("RGB", (400, 400), pixels).save(buf, format="PNG")
    return buf.getvalue()


async def create(http: httpx.AsyncClient, length: int, **metadata: str) -> httpx.Response:
    headers = {**TUS, "Upload-Length": str(length)}
    if metadata:
        headers["Upload-Metadata"] = meta(**metadata)
    return await http.post(UPLOADS, headers=headers)


async def send(
    http: httpx.AsyncClient, location: str, offset: int, data: bytes, **headers: str
) -> httpx.Response:
    return await http.patch(
        location,
        content=data,
        headers={**TUS, "Upload-Offset": str(offset), "Content-Type": OFFSET, **headers},
    )


async def rows(db: Database, model: type) -> list[Any]:
    async with db.session() as session:
        return list((await session.exec(select(model))).all())


def upload_temp(settings: Settings) -> list[Path]:
    folder = resumable.upload_dir(settings)
    return sorted(folder.iterdir()) if folder.exists() else []


async def test_options_advertises_the_extensions(client: httpx.AsyncClient) -> None:
    r = await client.options(UPLOADS)
    assert r.status_code == 204
    assert r.headers["tus-resumable"] == "1.0.0"
    assert r.headers["tus-version"] == "1.0.0"
    assert set(r.headers["tus-extension"].split(",")) == {
        "creation",
        "creation-with-upload",
        "termination",
        "expiration",
        "checksum",
    }
    assert int(r.headers["tus-max-size"]) == Settings().max_upload_size
    assert "sha1" in r.headers["tus-checksum-algorithm"].split(",")


async def test_upload_in_three_requests_makes_the_file_record(
    client: httpx.AsyncClient, db: Database, store: LocalBlobStore, settings: Settings
) -> None:
    data = noise_png()
    assert len(data) > 300_000
    r = await create(client, len(data), filename="noise.png", filetype="application/x-thing")
    assert r.status_code == 201, r.text
    location = r.headers["location"]
    assert location.startswith(UPLOADS + "/")
    assert r.headers["tus-resumable"] == "1.0.0"
    assert "GMT" in r.headers["upload-expires"]
    (temp,) = upload_temp(settings)
    assert temp.stat().st_size == 0

    head = await client.head(location, headers=TUS)
    assert head.status_code == 200
    assert head.headers["upload-offset"] == "0"
    assert head.headers["upload-length"] == str(len(data))
    assert head.headers["cache-control"] == "no-store"

    r = await send(client, location, 0, data[:100_000])
    assert r.status_code == 204, r.text
    assert r.headers["upload-offset"] == "100000"
    assert "upload-file-id" not in r.headers
    r = await send(client, location, 100_000, data[100_000:200_000])
    assert r.headers["upload-offset"] == "200000"
    r = await send(client, location, 200_000, data[200_000:])
    assert r.status_code == 204, r.text
    assert "upload-length" not in r.headers
    assert r.headers["upload-offset"] == str(len(data))
    cid = r.headers["upload-cid"]
    assert cid == cid_of(data)

    # the same pipeline as POST /api/v1/files: a record, its blob, its job, its event
    (file,) = await rows(db, File)
    assert (file.id, file.cid, file.filename, file.size) == (
        r.headers["upload-file-id"],
        cid,
        "noise.png",
        len(data),
    )
    assert file.declared_type == "application/x-thing"
    assert file.content_type == "image/png"  # detected from the bytes, as for any upload
    assert file.job_id is not None
    assert store.path_for(cid).read_bytes() == data
    assert [j.id for j in await rows(db, Job)] == [file.job_id]
    stored = [e for e in await rows(db, Event) if e.type == "file.stored"]
    assert [e.payload["file_id"] for e in stored] == [file.id]
    assert upload_temp(settings) == []

    state = await client.get(location)
    assert state.status_code == 200
    assert state.json()["file"]["id"] == file.id
    assert state.json()["offset"] == len(data)
    again = await client.head(location, headers=TUS)
    assert again.headers["upload-file-id"] == file.id
    assert again.headers["upload-cid"] == cid


async def test_creation_with_upload_and_an_empty_upload(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    data = b"hello world\n"
    r = await client.post(
        UPLOADS,
        content=data,
        headers={
            **TUS,
            "Upload-Length": str(len(data)),
            "Upload-Metadata": meta(filename="hello.txt"),
            "Content-Type": OFFSET,
        },
    )
    assert r.status_code == 201, r.text
    assert r.headers["upload-offset"] == str(len(data))
    assert r.headers["upload-cid"] == "bafkr4ig4ljhnxasawambeqcsymycobuw7ftxdjr3iusquxax2maa5artku"
    empty = await create(client, 0, filename="empty")
    assert empty.status_code == 201
    assert empty.headers["upload-cid"] == (
        "bafkr4ifpcne3t5pzugtkaqcn5i3nzskjtpfslsnnyejlpte2spfoihzsmi"
    )
    files = await rows(db, File)
    assert sorted(f.filename for f in files) == ["empty", "hello.txt"]
    assert sorted(f.content_type for f in files) == ["application/x-empty", "text/plain"]
    assert upload_temp(settings) == []


async def test_wrong_offset_and_version_and_content_type(client: httpx.AsyncClient) -> None:
    location = (await create(client, 10)).headers["location"]
    r = await send(client, location, 3, b"abc")
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["tus-resumable"] == "1.0.0"
    assert r.json()["offset"] == 0
    r = await client.patch(
        location,
        content=b"abc",
        headers={"Tus-Resumable": "0.2.2", "Upload-Offset": "0", "Content-Type": OFFSET},
    )
    assert r.status_code == 412
    assert r.headers["tus-version"] == "1.0.0"
    r = await client.patch(
        location, content=b"abc", headers={**TUS, "Upload-Offset": "0", "Content-Type": "text/x"}
    )
    assert r.status_code == 415
    r = await client.post(UPLOADS, headers=TUS)
    assert r.status_code == 400
    assert "Upload-Length" in r.json()["detail"]
    r = await client.post(UPLOADS, headers={**TUS, "Upload-Length": "ten"})
    assert r.status_code == 400
    r = await client.post(
        UPLOADS, headers={**TUS, "Upload-Length": "3", "Upload-Metadata": "filename %%%"}
    )
    assert r.status_code == 400
    assert (await client.head(location, headers=TUS)).headers["upload-offset"] == "0"


async def test_a_body_past_upload_length_keeps_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    location = (await create(client, 10)).headers["location"]
    r = await send(client, location, 0, b"0123456789ABC")
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/problem+json"

    async def chunked() -> Any:  # no Content-Length: found out while streaming
        yield b"01234"
        yield b"56789ABC"

    r = await client.patch(
        location,
        content=chunked(),
        headers={**TUS, "Upload-Offset": "0", "Content-Type": OFFSET},
    )
    assert r.status_code == 413
    assert (await client.head(location, headers=TUS)).headers["upload-offset"] == "0"
    r = await send(client, location, 0, b"0123456789")
    assert r.status_code == 204
    assert r.headers["upload-cid"] == cid_of(b"0123456789")
    assert len(await rows(db, File)) == 1


async def test_size_limit_is_checked_before_any_byte(
    client: httpx.AsyncClient, settings: Settings, db: Database
) -> None:
    settings.max_upload_size = 64 * 1024
    r = await create(client, 64 * 1024 + 1, filename="huge.bin")
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/problem+json"
    assert "64.0 KiB" in r.json()["detail"]
    assert await rows(db, Upload) == []
    assert upload_temp(settings) == []


async def test_checksum_mismatch_is_460_and_the_chunk_is_dropped(
    client: httpx.AsyncClient, db: Database
) -> None:
    data = body(50_000)
    location = (await create(client, len(data))).headers["location"]

    def checksum(algorithm: str, chunk: bytes) -> str:
        return f"{algorithm} {base64.b64encode(hashlib.new(algorithm, chunk).digest()).decode()}"

    wrong = checksum("sha1", b"x")
    r = await send(client, location, 0, data[:20_000], **{"Upload-Checksum": wrong})
    assert r.status_code == 460
    assert r.headers["content-type"] == "application/problem+json"
    assert (await client.head(location, headers=TUS)).headers["upload-offset"] == "0"
    r = await send(
        client, location, 0, data[:20_000], **{"Upload-Checksum": checksum("sha1", data[:20_000])}
    )
    assert r.status_code == 204, r.text
    assert r.headers["upload-offset"] == "20000"
    r = await send(client, location, 20_000, data[20_000:], **{"Upload-Checksum": "crc99 AAAA"})
    assert r.status_code == 400
    r = await send(
        client,
        location,
        20_000,
        data[20_000:],
        **{"Upload-Checksum": checksum("sha256", data[20_000:])},
    )
    assert r.status_code == 204
    # the dropped chunk left no trace in the hash either
    assert r.headers["upload-cid"] == cid_of(data)


async def test_expected_cid_mismatch_is_422_and_leaves_nothing(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    data = body(70_000)
    wrong = cid_of(b"something else")
    r = await create(client, len(data), filename="x.bin", cid=wrong)
    location = r.headers["location"]
    r = await send(client, location, 0, data)
    assert r.status_code == 422
    assert wrong in r.json()["detail"]
    assert await rows(db, File) == []
    assert await rows(db, Upload) == []
    assert upload_temp(settings) == []
    assert blob_files(settings) == []
    assert (await client.head(location, headers=TUS)).status_code == 404
    bad = await create(client, 3, cid="QmNotACanonicalCid")
    assert bad.status_code == 422
    right = await create(client, len(data), cid=cid_of(data))
    r = await send(client, right.headers["location"], 0, data)
    assert r.status_code == 204
    assert r.headers["upload-cid"] == cid_of(data)


async def test_a_refused_type_ends_the_upload(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    settings.allowed_content_types = ["image/*"]
    http = client
    data = body(200_000)
    location = (await create(http, len(data), filename="x.bin")).headers["location"]
    r = await send(http, location, 0, data[:100_000])
    assert r.status_code == 415
    assert await rows(db, Upload) == []
    assert upload_temp(settings) == []


async def test_another_account_cannot_see_or_write_an_upload(
    make_client: MakeClient, db: Database
) -> None:
    owner = await make_client("user")
    other = await make_client("user")
    admin = await make_client("admin")
    anonymous = await make_client(None)
    location = (await create(owner, 6)).headers["location"]
    for http in (other, admin):
        assert (await http.head(location, headers=TUS)).status_code == 404
        assert (await send(http, location, 0, b"abcdef")).status_code == 404
        assert (await http.delete(location, headers=TUS)).status_code == 404
        assert (await http.get(location)).status_code == 404
    assert (await send(anonymous, location, 0, b"abcdef")).status_code == 404
    assert (await create(anonymous, 6)).status_code == 401
    assert (await owner.head(location, headers=TUS)).headers["upload-offset"] == "0"
    assert (await owner.head(UPLOADS + "/nosuchupload", headers=TUS)).status_code == 404
    assert await rows(db, File) == []


async def test_termination_removes_the_bytes(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    location = (await create(client, 100)).headers["location"]
    assert (await send(client, location, 0, b"x" * 40)).status_code == 204
    r = await client.delete(location, headers=TUS)
    assert r.status_code == 204
    assert r.headers["tus-resumable"] == "1.0.0"
    assert (await client.head(location, headers=TUS)).status_code == 404
    assert await rows(db, Upload) == []
    assert upload_temp(settings) == []


async def test_an_abandoned_upload_expires_and_gc_removes_it(
    client: httpx.AsyncClient,
    db: Database,
    store: LocalBlobStore,
    settings: Settings,
    frozen_clock: Any,
) -> None:
    settings.uploads.expire_after = timedelta(minutes=5)
    location = (await create(client, 100)).headers["location"]
    assert (await send(client, location, 0, b"y" * 30)).status_code == 204
    kept = (await create(client, 100)).headers["location"]
    (row,) = [u for u in await rows(db, Upload) if location.endswith(u.id)]
    assert row.expires_at - utcnow() <= settings.uploads.expire_after
    assert len(upload_temp(settings)) == 2

    report = await collect_garbage(db, store, settings)
    assert report.expired_uploads == []
    frozen_clock.offset += 5 * 60 + 1
    assert (await client.head(location, headers=TUS)).status_code == 410
    assert (await send(client, location, 30, b"y")).status_code == 410
    dry = await collect_garbage(db, store, settings, dry_run=True)
    assert len(dry.expired_uploads) == 2
    assert len(upload_temp(settings)) == 2
    report = await collect_garbage(db, store, settings)
    assert sorted(report.expired_uploads) == sorted(u.rsplit("/", 1)[1] for u in (location, kept))
    assert report.freed_upload_bytes == 30
    assert await rows(db, Upload) == []
    assert upload_temp(settings) == []
    assert (await client.head(location, headers=TUS)).status_code == 404


async def test_a_resume_in_a_process_without_the_hash_state_hashes_what_is_there_once(
    client: httpx.AsyncClient,
) -> None:
    data = body(3 * 1024 * 1024 + 5)
    location = (await create(client, len(data))).headers["location"]
    assert (await send(client, location, 0, data[:1_000_001])).status_code == 204
    before = resumable.HASH_STATES.rehashed
    resumable.HASH_STATES.clear()  # as a restarted server, or another process, has none
    r = await send(client, location, 1_000_001, data[1_000_001:2_000_000])
    assert r.status_code == 204
    assert resumable.HASH_STATES.rehashed == before + 1
    r = await send(client, location, 2_000_000, data[2_000_000:])  # its own state again
    assert resumable.HASH_STATES.rehashed == before + 1
    assert r.headers["upload-cid"] == cid_of(data)


async def test_api_keys_need_files_write(
    client: httpx.AsyncClient, make_client: MakeClient
) -> None:
    async def key(*scopes: str) -> httpx.AsyncClient:
        made = await client.post("/api/v1/auth/keys", json={"name": "tus", "scopes": list(scopes)})
        assert made.status_code == 201, made.text
        http = await make_client(None)
        http.headers["Authorization"] = f"Bearer {made.json()['key']}"
        return http

    reader = await key("files:read")
    assert (await create(reader, 5)).status_code == 403
    writer = await key("files:read", "files:write")
    r = await create(writer, 5, filename="k.txt")
    assert r.status_code == 201
    done = await send(writer, r.headers["location"], 0, b"hello")
    assert done.status_code == 204
    assert done.headers["upload-cid"] == cid_of(b"hello")


def test_a_browser_session_uploads_with_its_csrf_token(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as browser:
        sign_in(browser, "live-user")
        headers = {**TUS, "Upload-Length": "6", "Upload-Metadata": meta(filename="b.txt")}
        refused = browser.post(UPLOADS, headers=headers)
        assert refused.status_code == 403
        assert "CSRF" in refused.json()["detail"]
        csrf = {"X-CSRF-Token": page_token(browser)}
        made = browser.post(UPLOADS, headers={**headers, **csrf})
        assert made.status_code == 201, made.text
        location = made.headers["location"]
        patch = {**TUS, "Upload-Offset": "0", "Content-Type": OFFSET}
        assert browser.patch(location, content=b"browse", headers=patch).status_code == 403
        assert browser.head(location, headers=TUS).headers["upload-offset"] == "0"
        done = browser.patch(location, content=b"browse", headers={**patch, **csrf})
        assert done.status_code == 204, done.text
        file = browser.get(f"/api/v1/files/{done.headers['upload-file-id']}").json()
        assert (file["owner_id"], file["cid"]) == (live_server.user_id, cid_of(b"browse"))


async def test_a_failed_creation_with_upload_keeps_nothing(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    headers = {**TUS, "Upload-Length": "10"}
    r = await client.post(UPLOADS, content=b"0123", headers={**headers, "Content-Type": "text/x"})
    assert r.status_code == 415
    sha1 = base64.b64encode(hashlib.sha1(b"nope").digest()).decode()
    r = await client.post(
        UPLOADS,
        content=b"0123",
        headers={**headers, "Content-Type": OFFSET, "Upload-Checksum": f"sha1 {sha1}"},
    )
    assert r.status_code == 460
    assert "location" not in r.headers
    assert await rows(db, Upload) == []
    assert upload_temp(settings) == []
    r = await client.post(UPLOADS, content=b"0123", headers={**headers, "Content-Type": OFFSET})
    assert r.status_code == 201
    assert r.headers["upload-offset"] == "4"
