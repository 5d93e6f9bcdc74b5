"""Ingest from a URL, end to end: the real app and its worker fetching from a real HTTP
server on 127.0.0.1 (allowed in ``fetch.allowed_hosts``), and every refusal, at request
time (422) or as a failed job, leaving nothing behind."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import trustme
from sqlmodel import col, func, select

from mcore.cid import file_cid
from mcore.db import Database
from mcore.events import Event
from mcore.files.models import File
from mcore.jobs.models import Job
from mcore.settings import FetchSettings, Settings
from tests import media
from tests.apphelpers import Running, fast, running_app
from tests.conftest import blob_files, temp_files
from tests.fetchserver import RemoteServer, Reply, remote_server

SQLITE = pytest.mark.parametrize("backend", ["sqlite"])  # about HTTP, not the database


@pytest.fixture
def remote() -> Iterator[RemoteServer]:
    with RemoteServer() as server:
        yield server


def fetching(settings: Settings, **fetch: Any) -> Settings:
    """``fast`` settings whose fetches may reach 127.0.0.1 (the test's remote server)."""
    options = {"allowed_hosts": ["127.0.0.1"], **fetch}
    return fast(settings).model_copy(update={"fetch": FetchSettings(**options)})


async def _count(db: Database, model: Any) -> int:
    async with db.session() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


async def _events(db: Database, user_id: str) -> list[Event]:
    async with db.session() as session:
        query = select(Event).where(col(Event.user_id) == user_id).order_by(col(Event.id))
        rows = list((await session.exec(query)).all())
        session.expunge_all()
        return rows


async def _fetch(app: Running, body: dict[str, Any]) -> dict[str, Any]:
    reply = await app.http.post("/api/v1/files/fetch", json=body)
    assert reply.status_code == 202, reply.text
    job = dict(reply.json())
    assert job["kind"] == "fetch_url"
    assert job["state"] in ("queued", "running")
    return job


async def _failed(app: Running, body: dict[str, Any]) -> dict[str, Any]:
    """Fetch, and the job once it failed for good; nothing of it may be left."""
    db, settings = app.app.state.db, app.app.state.settings
    files, blobs = await _count(db, File), blob_files(settings)
    job = await app.finished((await _fetch(app, body))["id"])
    assert job["state"] == "failed", job
    assert job["result"] == {}
    assert await _count(db, File) == files
    assert blob_files(settings) == blobs
    assert temp_files(settings) == []
    return job


@SQLITE
async def test_a_fetch_becomes_the_callers_file_through_the_upload_pipeline(
    settings: Settings, db: Database, remote: RemoteServer
) -> None:
    data = media.jpeg(640, 480)
    remote.routes["/pictures/harbour%20view.jpg"] = Reply(
        headers={"Content-Type": "image/jpeg"}, chunks=[data]
    )
    async with running_app(fetching(settings), role="user") as app:
        url = remote.url("/pictures/harbour%20view.jpg")
        queued = await _fetch(app, {"url": url})
        job = await app.finished(queued["id"])
        assert job["state"] == "succeeded", job
        assert job["progress"] == 100
        result = job["result"]
        assert result["cid"] == file_cid(data)
        assert result["size"] == len(data)
        file = await app.file(result["file_id"])
        assert file["cid"] == file_cid(data)
        assert file["filename"] == "harbour view.jpg"
        assert file["content_type"] == "image/jpeg"
        assert file["owner_id"] == app.user_id
        assert file["job_id"] == result["processing_job_id"]
        # the same processing as an upload's follows
        processing = await app.finished(result["processing_job_id"])
        assert processing["state"] == "succeeded", processing
        assert processing["file_id"] == file["id"]
        content = await app.http.get(f"/api/v1/files/{file['id']}/content")
        assert content.content == data
        types = [e.type for e in await _events(db, app.user_id)]
        assert "file.stored" in types
        assert "file.ready" in types
        done = [
            e.payload
            for e in await _events(db, app.user_id)
            if e.type == "job.progress" and e.payload["job_id"] == queued["id"]
        ]
        assert done[-1]["state"] == "succeeded"
        assert done[-1]["result"]["file_id"] == file["id"]
    assert temp_files(settings) == []


async def test_the_same_bytes_fetched_twice_are_stored_once(
    settings: Settings, db: Database, remote: RemoteServer
) -> None:
    remote.routes["/a.txt"] = Reply(chunks=[b"the same words\n"])
    remote.routes["/b.txt"] = Reply(chunks=[b"the same words\n"])
    async with running_app(fetching(settings), role="user") as app:
        first = await app.finished((await _fetch(app, {"url": remote.url("/a.txt")}))["id"])
        second = await app.finished((await _fetch(app, {"url": remote.url("/b.txt")}))["id"])
        assert first["state"] == second["state"] == "succeeded"
        assert first["result"]["cid"] == second["result"]["cid"]
        assert first["result"]["file_id"] != second["result"]["file_id"]
        assert len(blob_files(settings)) == 1
        assert await _count(db, File) == 2


@SQLITE
async def test_progress_is_reported_while_the_bytes_arrive(
    settings: Settings, db: Database, remote: RemoteServer
) -> None:
    chunks = [bytes([65 + i]) * 4096 for i in range(10)]
    remote.routes["/slow.txt"] = Reply(chunks=chunks, delay=0.3)
    async with running_app(fetching(settings), role="user") as app:
        queued = await _fetch(app, {"url": remote.url("/slow.txt"), "filename": "letters.txt"})
        job = await app.finished(queued["id"])
        assert job["state"] == "succeeded", job
        steps = [
            e.payload["progress"]
            for e in await _events(db, app.user_id)
            if e.type == "job.progress"
            and e.payload["job_id"] == queued["id"]
            and e.payload["state"] == "running"
        ]
        during = [p for p in steps if 0 < p < 100]
        assert len(set(during)) >= 2, steps
        assert during == sorted(during)
        assert (await app.file(job["result"]["file_id"]))["filename"] == "letters.txt"


@SQLITE
async def test_the_servers_file_name_is_used_unless_one_is_given(
    settings: Settings, remote: RemoteServer
) -> None:
    remote.routes["/download"] = Reply(
        headers={"Content-Disposition": "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.txt"},
        chunks=[b"hello\n"],
    )
    async with running_app(fetching(settings), role="user") as app:
        named = await app.finished((await _fetch(app, {"url": remote.url("/download")}))["id"])
        assert named["result"]["filename"] == "résumé.txt"
        given = await _fetch(app, {"url": remote.url("/download?x=1"), "filename": "cv.txt"})
        assert (await app.finished(given["id"]))["result"]["filename"] == "cv.txt"


@SQLITE
async def test_an_expected_cid_that_does_not_match_fails_the_job(
    settings: Settings, remote: RemoteServer
) -> None:
    remote.routes["/a.txt"] = Reply(chunks=[b"what the server has\n"])
    async with running_app(fetching(settings), role="user") as app:
        job = await _failed(
            app, {"url": remote.url("/a.txt"), "expected_cid": file_cid(b"something else")}
        )
        assert f"not the expected {file_cid(b'something else')}" in job["error"]
        assert job["attempts"] == 1
        good = {"url": remote.url("/a.txt"), "expected_cid": file_cid(b"what the server has\n")}
        assert (await app.finished((await _fetch(app, good))["id"]))["state"] == "succeeded"


@SQLITE
async def test_a_file_over_the_size_limit_fails_the_job(
    settings: Settings, remote: RemoteServer
) -> None:
    remote.routes["/told.bin"] = Reply(chunks=[b"x" * 5000])
    remote.routes["/untold.bin"] = Reply(chunks=[b"x" * 1000] * 5, length=False)
    tuned = fetching(settings).model_copy(update={"max_upload_size": 4096})
    async with running_app(tuned, role="user") as app:
        told = await _failed(app, {"url": remote.url("/told.bin")})
        assert "larger than this server accepts (4.0 KiB)" in told["error"]
        untold = await _failed(app, {"url": remote.url("/untold.bin")})
        assert "larger than this server accepts (4.0 KiB)" in untold["error"]


@SQLITE
async def test_a_type_outside_the_allowed_ones_fails_the_job(
    settings: Settings, remote: RemoteServer
) -> None:
    remote.routes["/tool.exe"] = Reply(chunks=[b"MZ" + b"\x90" * 200])
    tuned = fetching(settings).model_copy(update={"allowed_content_types": ["image/*"]})
    async with running_app(tuned, role="user") as app:
        job = await _failed(app, {"url": remote.url("/tool.exe")})
        assert "which this server does not accept" in job["error"]
        assert "fetched from http://127.0.0.1:" in job["error"]


@SQLITE
async def test_an_error_status_fails_the_job_and_a_server_error_is_retried(
    settings: Settings, remote: RemoteServer
) -> None:
    remote.routes["/broken"] = Reply(status=503, chunks=[b"down"])
    async with running_app(fetching(settings), role="user") as app:
        missing = await _failed(app, {"url": remote.url("/missing")})
        assert missing["error"] == (
            f"http://127.0.0.1:{remote.port} answered 404 Not Found; nothing was kept"
        )
        assert missing["attempts"] == 1
        broken = await _failed(app, {"url": remote.url("/broken")})
        assert "answered 503 Service Unavailable" in broken["error"]
        assert broken["attempts"] == broken["max_attempts"] == 3


@SQLITE
async def test_a_remote_server_that_is_too_slow_fails_the_job(
    settings: Settings, remote: RemoteServer
) -> None:
    remote.routes["/crawl"] = Reply(chunks=[b"." * 100] * 30, delay=0.1)
    tuned = fetching(settings, timeout=timedelta(seconds=1))
    async with running_app(tuned, role="user") as app:
        job = await _failed(app, {"url": remote.url("/crawl")})
        assert job["error"] == (
            f"the fetch from http://127.0.0.1:{remote.port} took longer than 0:00:01"
            " (fetch.timeout); nothing was kept"
        )


@SQLITE
async def test_redirects_are_followed_and_each_is_checked(
    settings: Settings, remote: RemoteServer
) -> None:
    remote.routes["/start"] = Reply(status=302, headers={"Location": "/middle"})
    remote.routes["/middle"] = Reply(status=301, headers={"Location": remote.url("/end.txt")})
    remote.routes["/end.txt"] = Reply(chunks=[b"arrived\n"])
    remote.routes["/to-metadata"] = Reply(
        status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )
    remote.routes["/to-mapped"] = Reply(
        status=307, headers={"Location": "http://[::ffff:10.0.0.1]/"}
    )
    remote.routes["/to-file"] = Reply(status=302, headers={"Location": "file:///etc/passwd"})
    remote.routes["/to-userinfo"] = Reply(
        status=302, headers={"Location": remote.url("/end.txt").replace("//", "//a:b@")}
    )
    remote.routes["/loop"] = Reply(status=302, headers={"Location": "/loop"})
    async with running_app(fetching(settings, max_redirects=3), role="user") as app:
        job = await app.finished((await _fetch(app, {"url": remote.url("/start")}))["id"])
        assert job["state"] == "succeeded", job
        assert job["result"]["filename"] == "end.txt"
        here = f"http://127.0.0.1:{remote.port}"

        metadata = await _failed(app, {"url": remote.url("/to-metadata")})
        assert metadata["error"] == (
            "a redirect led to http://169.254.169.254: 169.254.169.254 is a cloud metadata"
            " service address; fetches reach public addresses only (an operator can allow an"
            " internal source in fetch.allowed_hosts); nothing was kept"
        )
        assert metadata["attempts"] == 1
        mapped = await _failed(app, {"url": remote.url("/to-mapped")})
        assert (
            "a private network address in an IPv6 form (it carries 10.0.0.1)" in (mapped["error"])
        )
        scheme = await _failed(app, {"url": remote.url("/to-file")})
        assert scheme["error"].startswith(
            f"{here} redirects elsewhere: only http:// and https:// URLs can be fetched, not file:"
        )
        userinfo = await _failed(app, {"url": remote.url("/to-userinfo")})
        assert "redirects elsewhere: the URL carries a user name or password" in userinfo["error"]
        loop = await _failed(app, {"url": remote.url("/loop")})
        assert loop["error"] == (
            f"{here} redirects more than 3 times (fetch.max_redirects); nothing was kept"
        )
    assert not any(s.path.startswith("/latest") for s in remote.seen)


@SQLITE
async def test_no_credentials_or_cookies_are_sent_to_any_hop(
    settings: Settings, remote: RemoteServer
) -> None:
    remote.routes["/first"] = Reply(
        status=302, headers={"Location": "/second", "Set-Cookie": "session=secret; Path=/"}
    )
    remote.routes["/second"] = Reply(chunks=[b"fine\n"])
    async with running_app(fetching(settings), role="user") as app:
        app.http.cookies.set("mstack", "the-callers-cookie")
        job = await app.finished((await _fetch(app, {"url": remote.url("/first")}))["id"])
        assert job["state"] == "succeeded", job
        token = app.http.headers["Authorization"].split()[1]
    assert [s.path for s in remote.seen] == ["/first", "/second"]
    for seen in remote.seen:
        assert set(seen.headers) <= {"host", "user-agent", "accept", "accept-encoding"}, seen
        assert seen.headers["host"] == f"127.0.0.1:{remote.port}"
        assert token not in str(seen.headers)


REFUSED_UP_FRONT = [
    ("ftp://127.0.0.1/file.txt", "only http:// and https:// URLs can be fetched, not ftp:"),
    ("file:///etc/passwd", "only http:// and https:// URLs can be fetched, not file:"),
    ("gopher://127.0.0.1:70/", "only http:// and https:// URLs can be fetched, not gopher:"),
    ("//127.0.0.1/x", "only http:// and https:// URLs can be fetched, not no scheme"),
    ("http://user:secret@example.org/a.jpg", "carries a user name or password"),
    ("http://127.0.0.1:9/a", "127.0.0.1 is a loopback address (this machine)"),
    ("http://127.1/a", "127.1 (127.0.0.1) is a loopback address"),
    ("http://2130706433/a", "2130706433 (127.0.0.1) is a loopback address"),
    ("http://0x7f.0.0.1/a", "(127.0.0.1) is a loopback address"),
    ("http://localhost/a", "is a loopback address"),
    ("http://[::1]:8000/a", "::1 is a loopback address"),
    ("http://[::ffff:127.0.0.1]/a", "a loopback address (this machine) in an IPv6 form"),
    ("http://[::ffff:a9fe:a9fe]/a", "a cloud metadata service address in an IPv6 form"),
    ("http://[64:ff9b::a00:1]/", "a private network address in an IPv6 form"),
    ("http://[2002:c0a8:101::]/", "a private network address in an IPv6 form"),
    ("http://169.254.169.254/latest/meta-data/", "is a cloud metadata service address"),
    ("http://10.1.2.3/", "10.1.2.3 is a private network address"),
    ("http://192.168.0.1/", "is a private network address"),
    ("http://172.20.0.1/", "is a private network address"),
    ("http://100.64.0.1/", "is a carrier-grade NAT (shared) address"),
    ("http://169.254.10.10/", "is a link-local address"),
    ("http://[fe80::1]/", "is a link-local address"),
    ("http://[fd00::1]/", "is a private network address"),
    ("http://224.0.0.1/", "is a multicast or broadcast address"),
    ("http://[ff02::1]/", "is a multicast or broadcast address"),
    ("http://0.0.0.0/", "is the unspecified address"),
    ("http://[::]/", "is the unspecified address"),
    ("http://240.0.0.1/", "is a reserved or special-purpose address"),
    ("http://no-such-host.invalid/a", "the host 'no-such-host.invalid' could not be resolved"),
    ("http:///a", "the URL has no host"),
    ("http://exa mple.org/", "the URL's host 'exa%20mple.org' is not a valid host name"),
    ("http://[::1/", "the URL is not valid"),
    ("http://example.org:99999/", "the URL's port 99999 is not a valid port"),
    ("http://[fe80::1%25eth0]/", "is a link-local address"),
    ("http://example.org@127.0.0.1/", "carries a user name or password"),
]


@SQLITE
@pytest.mark.parametrize(("url", "why"), REFUSED_UP_FRONT)
async def test_what_can_be_told_up_front_is_refused_with_a_422(
    client: Any, db: Database, url: str, why: str
) -> None:
    reply = await client.post("/api/v1/files/fetch", json={"url": url})
    assert reply.status_code == 422, reply.text
    assert reply.headers["content-type"].startswith("application/problem+json")
    problem = reply.json()
    assert problem["detail"].startswith("this URL cannot be fetched: ")
    assert why in problem["detail"]
    assert problem["errors"][0]["field"] == "url"
    assert await _count(db, Job) == 0


@SQLITE
async def test_an_allowed_host_passes_only_for_its_own_addresses(
    settings: Settings, remote: RemoteServer
) -> None:
    remote.routes["/ok.txt"] = Reply(chunks=[b"ok\n"])
    async with running_app(fetching(settings, allowed_hosts=["10.9.0.0/16"]), role="user") as app:
        refused = await app.http.post("/api/v1/files/fetch", json={"url": remote.url("/ok.txt")})
        assert refused.status_code == 422
        assert "127.0.0.1 is a loopback address" in refused.json()["detail"]
    assert remote.seen == []


@SQLITE
async def test_a_malformed_expected_cid_and_a_bad_body_are_refused(client: Any) -> None:
    bad_cid = await client.post(
        "/api/v1/files/fetch", json={"url": "http://example.org/a", "expected_cid": "Qmabc"}
    )
    assert bad_cid.status_code == 422
    assert bad_cid.json()["errors"][0]["field"] == "expected_cid"
    no_url = await client.post("/api/v1/files/fetch", json={"filename": "a.txt"})
    assert no_url.status_code in (400, 422)
    assert no_url.headers["content-type"].startswith("application/problem+json")


@SQLITE
async def test_only_accounts_that_may_upload_may_fetch(
    make_client: Any, anon_client: Any, db: Database
) -> None:
    body = {"url": "http://example.org/a.jpg"}
    assert (await anon_client.post("/api/v1/files/fetch", json=body)).status_code == 401
    guest = await make_client("guest")
    refused = await guest.post("/api/v1/files/fetch", json=body)
    assert refused.status_code == 403
    assert "guests cannot create" in refused.json()["detail"]
    user = await make_client("user")
    key = await user.post("/api/v1/auth/keys", json={"name": "ro", "scopes": ["files:read"]})
    reader = await make_client(None)
    reader.headers["Authorization"] = f"Bearer {key.json()['key']}"
    scoped = await reader.post("/api/v1/files/fetch", json=body)
    assert scoped.status_code == 403
    assert "files:write" in scoped.json()["detail"]
    assert await _count(db, Job) == 0


@SQLITE
async def test_the_job_is_the_callers_alone_and_runs_with_the_callers_rights(
    settings: Settings, db: Database, remote: RemoteServer
) -> None:
    remote.routes["/mine.txt"] = Reply(chunks=[b"mine\n"])
    async with running_app(fetching(settings), worker=False, role="user") as app:
        queued = await _fetch(app, {"url": remote.url("/mine.txt")})
        from tests.conftest import PASSWORD, create_account

        await create_account(app.app, role="user", username="someone-else")
        other = await app.http.post(
            "/api/v1/auth/login", json={"username": "someone-else", "password": PASSWORD}
        )
        seen = await app.http.get(
            f"/api/v1/jobs/{queued['id']}",
            headers={"Authorization": f"Bearer {other.json()['access_token']}"},
        )
        assert seen.status_code == 404
        async with app.app.state.db.session(write=True) as session:
            from mcore.auth.models import User

            owner = await session.get(User, app.user_id)
            assert owner is not None
            owner.disabled = True
            session.add(owner)
    async with running_app(fetching(settings), role="admin") as admin:
        job = await admin.finished(queued["id"])
        assert job["state"] == "failed"
        assert job["error"] == "the account that asked for this fetch is gone or disabled"
    assert remote.seen == []
    assert await _count(db, File) == 0


@SQLITE
async def test_an_https_source_is_fetched_by_name_with_its_certificate_checked(
    settings: Settings, tmp_path: Path
) -> None:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    bundle = tmp_path / "internal-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    # the server listens where the fetch will connect: localhost's first address here
    first = str(socket.getaddrinfo("localhost", 443, type=socket.SOCK_STREAM)[0][4][0])
    with remote_server(context, host=first) as remote:
        remote.routes["/notes.txt"] = Reply(chunks=[b"over TLS\n"])
        url = remote.url("/notes.txt", host="localhost")
        trusting = fetching(settings, allowed_hosts=["localhost"], ca_file=bundle)
        async with running_app(trusting, role="user") as app:
            job = await app.finished((await _fetch(app, {"url": url}))["id"])
            assert job["state"] == "succeeded", job
            content = await app.http.get(f"/api/v1/files/{job['result']['file_id']}/content")
            assert content.content == b"over TLS\n"
        assert remote.sni == ["localhost"]
        assert remote.seen[0].headers["host"] == f"localhost:{remote.port}"
        async with running_app(fetching(settings, allowed_hosts=["localhost"])) as app:
            refused = await _failed(app, {"url": url})
            assert refused["error"] == (
                f"https://localhost:{remote.port} could not be reached: its TLS certificate"
                " is not valid (unable to get local issuer certificate); nothing was kept"
            )
            assert refused["attempts"] == 1


@SQLITE
async def test_a_remote_server_that_goes_silent_fails_after_its_retries(
    settings: Settings, remote: RemoteServer
) -> None:
    remote.routes["/stall"] = Reply(chunks=[b"a" * 100, b"b" * 100], delay=1.0)
    tuned = fetching(settings, read_timeout=timedelta(milliseconds=300))
    async with running_app(tuned, role="user") as app:
        job = await _failed(app, {"url": remote.url("/stall")})
        assert job["error"] == (f"http://127.0.0.1:{remote.port} stopped sending; nothing was kept")
        assert job["attempts"] == job["max_attempts"]


@SQLITE
async def test_the_upload_limits_changed_while_running_apply_to_fetches(
    settings: Settings, remote: RemoteServer
) -> None:
    remote.routes["/big.txt"] = Reply(chunks=[b"y" * 5000])
    async with running_app(fetching(settings)) as app:  # an admin, who may change them
        changed = await app.http.put("/api/v1/admin/settings/max_upload_size", json={"value": 1000})
        assert changed.status_code == 200, changed.text
        job = await _failed(app, {"url": remote.url("/big.txt")})
        assert "larger than this server accepts (1000 bytes)" in job["error"]
        types = await app.http.put(
            "/api/v1/admin/settings/allowed_content_types", json={"value": ["image/*"]}
        )
        assert types.status_code == 200, types.text
        remote.routes["/small.txt"] = Reply(chunks=[b"small\n"])
        refused = await _failed(app, {"url": remote.url("/small.txt")})
        assert "text/plain, which this server does not accept" in refused["error"]
