"""Uploading: raw and multipart bodies, expected CIDs, limits, types and names."""

import asyncio
import io
import socket

import httpx
import pytest
from PIL import Image
from sqlmodel import select

from mcore.cid import file_cid
from mcore.db import Database
from mcore.files.models import File
from mcore.refs import BlobRef
from mcore.settings import Settings
from mcore.storage import LocalBlobStore
from tests.conftest import LiveServer, blob_files, temp_files, wait_for

FILES = "/api/v1/files"


def png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(buf, format="PNG")
    return buf.getvalue()


async def rows(db: Database, model: type) -> list:
    async with db.session() as session:
        return list((await session.exec(select(model))).all())


async def test_raw_upload_returns_records_and_stores_blob(
    client: httpx.AsyncClient, db: Database, store: LocalBlobStore, settings: Settings
) -> None:
    data = b"hello world\n"
    r = await client.post(FILES, params={"filename": "hello.txt"}, content=data)
    assert r.status_code == 201, r.text
    (record,) = r.json()
    assert record["cid"] == "bafkr4ig4ljhnxasawambeqcsymycobuw7ftxdjr3iusquxax2maa5artku"
    assert record["filename"] == "hello.txt"
    assert record["size"] == len(data)
    assert record["content_type"] == "text/plain"
    assert record["status"] == "stored"
    assert set(record) >= {"id", "cid", "filename", "size", "content_type", "status", "created_at"}
    assert store.path_for(record["cid"]).read_bytes() == data
    (ref,) = await rows(db, BlobRef)
    assert (ref.cid, ref.kind, ref.ref_id) == (record["cid"], "file", record["id"])
    assert temp_files(settings) == []


async def test_multipart_upload_of_several_files(client: httpx.AsyncClient, db: Database) -> None:
    files = [
        ("file", ("a.txt", b"first file", "text/plain")),
        ("file", ("b.png", png_bytes(), "image/png")),
    ]
    r = await client.post(FILES, files=files, data={"note": "ignored field"})
    assert r.status_code == 201, r.text
    records = r.json()
    assert [x["filename"] for x in records] == ["a.txt", "b.png"]
    assert [x["cid"] for x in records] == [file_cid(b"first file"), file_cid(png_bytes())]
    assert records[1]["content_type"] == "image/png"
    assert len(await rows(db, File)) == 2


async def test_same_bytes_twice_one_blob_two_records(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    for name in ("one.bin", "two.bin"):
        r = await client.post(FILES, params={"filename": name}, content=b"\x00dup" * 1000)
        assert r.status_code == 201
    assert len(blob_files(settings)) == 1
    assert len(await rows(db, File)) == 2
    assert len(await rows(db, BlobRef)) == 2
    assert temp_files(settings) == []  # the second copy was dropped after its commit


async def test_expected_cid_matching_is_accepted(client: httpx.AsyncClient) -> None:
    data = b"abc"
    r = await client.post(FILES, params={"filename": "a", "cid": file_cid(data)}, content=data)
    assert r.status_code == 201
    assert r.json()[0]["cid"] == file_cid(data)


@pytest.mark.parametrize("form", ["raw", "multipart"])
async def test_expected_cid_mismatch_keeps_nothing(
    client: httpx.AsyncClient, db: Database, settings: Settings, form: str
) -> None:
    expected = file_cid(b"something else")
    if form == "raw":
        r = await client.post(FILES, params={"filename": "x", "cid": expected}, content=b"abc")
    else:
        r = await client.post(FILES, params={"cid": expected}, files={"file": ("x", b"abc")})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert expected in body["detail"]
    assert file_cid(b"abc") in body["detail"]
    assert body["errors"][0]["field"] == "cid"
    assert await rows(db, File) == []
    assert blob_files(settings) == []
    assert temp_files(settings) == []


async def test_non_canonical_expected_cid_refused_before_reading(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    upper = file_cid(b"abc").upper()
    r = await client.post(FILES, params={"filename": "x", "cid": upper}, content=b"abc")
    assert r.status_code == 422
    assert "canonical" in r.json()["detail"]
    assert temp_files(settings) == []


async def test_mismatch_on_bytes_already_stored_leaves_blob_alone(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await client.post(FILES, params={"filename": "a"}, content=b"abc")
    (blob,) = blob_files(settings)
    r = await client.post(FILES, params={"filename": "b", "cid": file_cid(b"zzz")}, content=b"abc")
    assert r.status_code == 422
    assert blob_files(settings) == [blob]
    assert blob.read_bytes() == b"abc"


async def test_one_cid_for_several_files_refused(client: httpx.AsyncClient, db: Database) -> None:
    files = [("file", ("a", b"1")), ("file", ("b", b"2"))]
    r = await client.post(FILES, params={"cid": file_cid(b"1")}, files=files)
    assert r.status_code == 422
    assert await rows(db, File) == []


async def test_form_without_file_is_refused(client: httpx.AsyncClient) -> None:
    r = await client.post(FILES, data={"title": "no file here"}, files={"other": ("x", b"1")})
    assert r.status_code == 422
    assert "file" in r.json()["detail"]


async def test_truncated_multipart_body(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    body = (
        b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nsome bytes but no closing boundary"
    )
    r = await client.post(
        FILES, content=body, headers={"content-type": "multipart/form-data; boundary=XyZ"}
    )
    assert r.status_code == 400
    assert "multipart" in r.json()["detail"]
    assert await rows(db, File) == []
    assert temp_files(settings) == []
    assert blob_files(settings) == []


async def test_multipart_without_boundary(client: httpx.AsyncClient) -> None:
    r = await client.post(FILES, content=b"x", headers={"content-type": "multipart/form-data"})
    assert r.status_code == 400
    assert "boundary" in r.json()["detail"]


@pytest.fixture
def small_limit(settings: Settings) -> Settings:
    settings.max_upload_size = 64 * 1024
    return settings


async def test_declared_length_over_limit_refused_at_once(
    small_limit: Settings, client: httpx.AsyncClient
) -> None:
    r = await client.post(FILES, params={"filename": "big"}, content=b"x" * (64 * 1024 + 1))
    assert r.status_code == 413
    assert "64.0 KiB" in r.json()["detail"]
    assert temp_files(small_limit) == []


@pytest.mark.parametrize("form", ["raw", "multipart"])
async def test_stream_over_limit_stops_and_cleans_up(
    small_limit: Settings, client: httpx.AsyncClient, db: Database, form: str
) -> None:
    sent = 0

    async def chunks():  # no Content-Length: the limit must be enforced while streaming
        nonlocal sent
        if form == "multipart":
            yield b'--B\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\n'
        for _ in range(1000):
            sent += 8192
            yield b"y" * 8192

    headers = {"content-type": "multipart/form-data; boundary=B"} if form == "multipart" else {}
    r = await client.post(FILES, params={"filename": "f"}, content=chunks(), headers=headers)
    assert r.status_code == 413
    assert sent < 1000 * 8192  # it stopped reading long before the end
    assert await rows(db, File) == []
    assert temp_files(small_limit) == []
    assert blob_files(small_limit) == []


async def test_type_is_detected_from_bytes_not_name_or_header(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    settings.allowed_content_types = ["image/*"]
    r = await client.post(
        FILES,
        params={"filename": "notes.txt"},
        content=png_bytes(),
        headers={"content-type": "text/plain"},
    )
    assert r.status_code == 201
    record = r.json()[0]
    assert record["content_type"] == "image/png"
    assert record["declared_type"] == "text/plain"
    assert record["filename"] == "notes.txt"


@pytest.mark.parametrize("form", ["raw", "multipart"])
async def test_disallowed_type_refused_with_415(
    settings: Settings, client: httpx.AsyncClient, db: Database, form: str
) -> None:
    settings.allowed_content_types = ["image/*"]
    html = b"<!doctype html><html><script>alert(1)</script></html>"
    if form == "raw":
        r = await client.post(
            FILES,
            params={"filename": "cat.png"},
            content=html,
            headers={"content-type": "image/png"},
        )
    else:
        r = await client.post(FILES, files={"file": ("cat.png", html, "image/png")})
    assert r.status_code == 415
    assert "text/html" in r.json()["detail"]
    assert await rows(db, File) == []
    assert temp_files(settings) == []
    assert blob_files(settings) == []


async def test_refused_second_part_drops_the_first(
    settings: Settings, client: httpx.AsyncClient, db: Database
) -> None:
    settings.allowed_content_types = ["image/*"]
    files = [("file", ("ok.png", png_bytes())), ("file", ("bad.exe", b"MZ\x90\x00rest"))]
    r = await client.post(FILES, files=files)
    assert r.status_code == 415
    assert await rows(db, File) == []
    assert temp_files(settings) == []
    assert blob_files(settings) == []


async def test_zero_byte_file_is_stored(client: httpx.AsyncClient) -> None:
    r = await client.post(FILES, params={"filename": "empty"}, content=b"")
    assert r.status_code == 201
    record = r.json()[0]
    assert record["cid"] == "bafkr4ifpcne3t5pzugtkaqcn5i3nzskjtpfslsnnyejlpte2spfoihzsmi"
    assert record["size"] == 0


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("/var/lib/x.txt", "x.txt"),
        ("r\u00e9sum\u00e9 \U0001f3a8.txt", "r\u00e9sum\u00e9 \U0001f3a8.txt"),
        ("cafe\u0301.txt", "caf\u00e9.txt"),
        ("evil\u202etxt.exe", "eviltxt.exe"),
        ("nul\x00byte.txt", "nulbyte.txt"),
    ],
)
async def test_filenames_are_metadata_never_paths(
    client: httpx.AsyncClient, settings: Settings, given: str, kept: str
) -> None:
    before = set(settings.data_dir.parent.rglob("*"))
    r = await client.post(FILES, params={"filename": given}, content=b"some content")
    assert r.status_code == 201, r.text
    record = r.json()[0]
    assert record["filename"] == kept
    created = set(settings.data_dir.parent.rglob("*")) - before
    created = {p for p in created if not p.name.startswith("mstack.db")}  # WAL files
    # only the blob (and its shard folders) appeared, under blobs/, named by its CID
    assert all(p.is_relative_to(settings.blob_dir) for p in created)
    assert [p.name for p in created if p.is_file()] == [record["cid"]]
    got = await client.get(f"{FILES}/{record['id']}/content")
    assert "filename*=UTF-8''" in got.headers["content-disposition"]


async def test_multipart_filename_is_sanitised_too(client: httpx.AsyncClient) -> None:
    r = await client.post(FILES, files={"file": ("../../.ssh/authorized_keys", b"ssh-rsa")})
    assert r.status_code == 201
    assert r.json()[0]["filename"] == "authorized_keys"


async def test_many_concurrent_uploads_of_the_same_bytes(
    live_server: LiveServer, settings: Settings, db: Database
) -> None:
    data = b"the same bytes from everyone" * 4096
    async with httpx.AsyncClient(
        base_url=live_server.url, headers=live_server.headers, timeout=30
    ) as http:
        results = await asyncio.gather(
            *[http.post(FILES, params={"filename": f"c{i}"}, content=data) for i in range(24)]
        )
    assert [r.status_code for r in results] == [201] * 24, [
        r.text for r in results if r.status_code != 201
    ]
    assert {r.json()[0]["cid"] for r in results} == {file_cid(data)}
    assert len(blob_files(settings)) == 1
    assert len(await rows(db, File)) == 24
    assert temp_files(settings) == []


async def test_concurrent_writers_never_see_database_is_locked(
    live_server: LiveServer, settings: Settings, db: Database
) -> None:
    """Uploads, renames and deletes at once: SQLite writers queue instead of failing."""
    async with httpx.AsyncClient(
        base_url=live_server.url, headers=live_server.headers, timeout=60
    ) as http:
        first = [
            (await http.post(FILES, params={"filename": f"seed{i}"}, content=b"s%d" % i)).json()[0]
            for i in range(10)
        ]
        calls = [
            http.post(FILES, params={"filename": f"n{i}"}, content=b"n%d" % i) for i in range(30)
        ]
        calls += [http.patch(f"{FILES}/{f['id']}", json={"filename": "x"}) for f in first[5:]]
        calls += [http.delete(f"{FILES}/{f['id']}") for f in first[:5]]
        results = await asyncio.gather(*calls)
    bad = [(r.status_code, r.text) for r in results if r.status_code >= 300]
    assert bad == []
    assert len(await rows(db, File)) == 40


async def test_client_disconnect_mid_upload_leaves_nothing(
    live_server: LiveServer, settings: Settings, db: Database
) -> None:
    host, port = "127.0.0.1", live_server.port
    _reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        f"POST {FILES}?filename=partial.bin HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: {live_server.headers['Authorization']}\r\n"
        f"Content-Length: {50 * 1024 * 1024}\r\n"
        "Content-Type: application/octet-stream\r\n\r\n".encode()
    )
    writer.write(b"p" * (3 * 1024 * 1024))
    await writer.drain()
    await wait_for(lambda: temp_files(settings) != [])  # the upload had begun
    writer.transport.abort()  # vanish mid-body
    await wait_for(lambda: temp_files(settings) == [])
    assert await rows(db, File) == []
    assert blob_files(settings) == []
    # and the server carries on
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        assert (await http.get("/health")).json() == {"status": "ok"}


def test_socket_helper_free_port_is_free() -> None:
    from tests.conftest import free_port

    with socket.socket() as s:
        s.bind(("127.0.0.1", free_port()))


@pytest.mark.parametrize(
    ("given", "fallback"),
    [
        ("\uff0e\uff0e\uff0f\uff0e\uff0e\uff0f.bashrc", "bashrc"),  # ．．／．．／.bashrc
        ("\uff3c\uff0e\uff0e\uff3cboot.ini", "boot.ini"),  # ＼．．＼boot.ini
        ("\u2025\uff0freport.pdf", "report.pdf"),  # ‥／report.pdf
    ],
)
async def test_download_name_fallback_folds_no_path(
    client: httpx.AsyncClient, given: str, fallback: str
) -> None:
    r = await client.post(FILES, params={"filename": given}, content=b"look-alike")
    assert r.status_code == 201, r.text
    record = r.json()[0]
    assert record["filename"] == given  # kept as written: the look-alikes are not separators
    got = await client.get(f"{FILES}/{record['id']}/content")
    disposition = got.headers["content-disposition"]
    assert disposition.startswith(f'inline; filename="{fallback}"; filename*=UTF-8')
