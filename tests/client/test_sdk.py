"""The SDK against a real server on a loopback port: uploads, checked and resumable
downloads, file records, errors with the server's problem details."""

from __future__ import annotations

import inspect
import io
import os
import threading
from pathlib import Path

import pytest

from mcore.settings import Settings
from mstack_client import (
    AsyncClient,
    Client,
    ConnectionFailed,
    DownloadResult,
    FileInfo,
    Forbidden,
    IntegrityError,
    Interrupted,
    Invalid,
    MstackError,
    NotFound,
    Tokens,
    TooLarge,
    file_cid,
)
from mstack_client._transfer import partial_path
from tests.client.conftest import (
    CuttingProxy,
    flip_byte,
    make_tree,
    no_partials,
    settings_with,
    tokens,
)
from tests.conftest import LiveServer, blob_files, free_port, temp_files

MiB = 1024 * 1024
BIG = 5 * MiB + 12345  # several chunks, past the server's small-blob cache


def blob_path(settings: Settings, cid: str) -> Path:
    (path,) = [p for p in blob_files(settings) if p.name == cid]
    return path


# ---------------------------------------------------------------------- round trips


@pytest.mark.parametrize("size", [0, 11, BIG])
def test_round_trip_through_a_path(sdk: Client, tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    seen: list[tuple[int, int | None]] = []

    file = sdk.upload(src, progress=lambda done, total: seen.append((done, total)))

    assert isinstance(file, FileInfo)
    assert (file.cid, file.size, file.filename) == (file_cid(data), size, "src.bin")
    assert seen[-1] == (size, size)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    result = sdk.download(file.id, tmp_path / "copy.bin")
    assert isinstance(result, DownloadResult)
    assert (tmp_path / "copy.bin").read_bytes() == data
    assert (result.cid, result.size, result.resumed_from) == (file.cid, size, 0)
    assert no_partials(tmp_path)


def test_round_trip_through_streams(sdk: Client) -> None:
    data = os.urandom(BIG)
    file = sdk.upload(io.BytesIO(data), filename="stream.bin")
    assert file.cid == file_cid(data)
    out = io.BytesIO()
    sdk.download(file.cid, out)  # by CID: GET /blobs/{cid}
    assert out.getvalue() == data


def test_file_info_names_the_public_copy_without_gps(sdk: Client) -> None:
    file = sdk.upload(io.BytesIO(b"plain text, nothing to strip"), filename="a.txt")
    assert file.stripped_cid is None  # only images with personal metadata get one
    record = {**file.raw, "stripped_cid": file.cid}
    assert FileInfo.from_json(record).stripped_cid == file.cid


def test_upload_from_a_pipe_is_hashed_while_sent(sdk: Client) -> None:
    """A stream that cannot be read twice goes out without ?cid=; the CID is checked after."""
    data = os.urandom(2 * MiB + 7)
    read_fd, write_fd = os.pipe()

    def feed() -> None:
        with os.fdopen(write_fd, "wb") as w:
            w.write(data)

    feeder = threading.Thread(target=feed)
    feeder.start()
    with os.fdopen(read_fd, "rb") as pipe:
        file = sdk.upload(pipe, filename="piped.bin")
    feeder.join()
    assert (file.cid, file.size) == (file_cid(data), len(data))


async def test_async_client_round_trip(live_server: LiveServer, tmp_path: Path) -> None:
    data = os.urandom(BIG)
    src = tmp_path / "a.bin"
    src.write_bytes(data)
    async with AsyncClient(live_server.url, tokens=tokens(live_server)) as client:
        file = await client.upload(src)
        assert file.cid == file_cid(data)
        result = await client.download(file.id, tmp_path / "out")  # missing folder: a file
        assert (tmp_path / "out").read_bytes() == data
        assert result.size == len(data)
        again = await client.upload(src, skip_existing=True)
        assert again.id == file.id
        names = [f.id async for f in client.iter_files(page_size=1)]
        assert names == [file.id]


def test_sync_and_async_clients_have_the_same_methods() -> None:
    def public(cls: type) -> dict[str, list[str]]:
        return {
            name: list(inspect.signature(fn).parameters)
            for name, fn in inspect.getmembers(cls, inspect.isfunction)
            if not name.startswith("_")
        }

    sync, asyn = public(Client), public(AsyncClient)
    assert sync.keys() - {"close"} == asyn.keys() - {"aclose"}
    for name in sync.keys() - {"close"}:
        assert sync[name] == asyn[name], name


# ---------------------------------------------------------------------- uploads


def test_skip_existing_finds_your_file_by_cid(sdk: Client, tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_bytes(b"same bytes")
    first = sdk.upload(src)
    again = sdk.upload(src, skip_existing=True)
    assert again.id == first.id
    other = sdk.upload(src)  # without skipping: a second record of the same bytes
    assert other.id != first.id
    assert other.cid == first.cid
    assert len(sdk.list_files().items) == 2
    assert sdk.find_file(file_cid(b"not uploaded")) is None


def test_wrong_expected_cid_is_refused_before_sending(sdk: Client, tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_bytes(b"abc")
    with pytest.raises(IntegrityError) as info:
        sdk.upload(src, cid=file_cid(b"abd"))
    assert info.value.actual == file_cid(b"abc")
    assert sdk.list_files().items == []


def test_a_file_changed_during_upload_is_named_and_nothing_kept(
    sdk: Client, tmp_path: Path, settings: Settings
) -> None:
    src = tmp_path / "moving.bin"
    src.write_bytes(os.urandom(3 * MiB))

    def change_the_tail(done: int, total: int | None) -> None:
        if 0 < done < 2 * MiB:  # after the first chunk went out, the file changes
            with src.open("r+b") as f:
                f.seek(-4, os.SEEK_END)
                f.write(b"EDIT")

    with pytest.raises(MstackError, match="changed while it was being uploaded") as info:
        sdk.upload(src, progress=change_the_tail)
    assert isinstance(info.value.__cause__, Invalid)  # the server refused it: 422
    assert sdk.list_files().items == []
    assert blob_files(settings) == []
    assert temp_files(settings) == []


def test_too_large_upload_gets_the_servers_problem(settings: Settings, tmp_path: Path) -> None:
    server = LiveServer(settings_with(settings, max_upload_size=MiB))
    server.start()
    try:
        src = tmp_path / "big.bin"
        src.write_bytes(os.urandom(4 * MiB))
        with Client(server.url, tokens=tokens(server)) as client, pytest.raises(TooLarge) as info:
            client.upload(src)
        assert info.value.status == 413
        assert info.value.problem["status"] == 413
        assert "larger than this server accepts" in info.value.detail
    finally:
        server.stop()
    assert blob_files(settings) == []
    assert temp_files(settings) == []


def test_parallel_uploads_of_a_folder(sdk: Client, tmp_path: Path) -> None:
    files = {f"dir/{i % 3}/f{i:02}.bin": os.urandom(1000 + i * 97_000) for i in range(12)}
    files["dir/dup.bin"] = files["dir/0/f00.bin"]
    tree = make_tree(tmp_path, files)
    seen: dict[Path, int] = {}
    lock = threading.Lock()

    def progress(path: Path, done: int, total: int | None) -> None:
        with lock:
            seen[path] = done

    results = sdk.upload_many([tmp_path / "dir"], parallel=4, progress=progress)

    assert [r.source for r in results] == sorted(tree)  # every file once, in a stable order
    assert all(r.ok and not r.skipped for r in results)
    assert {r.source: r.file.cid for r in results if r.file} == {
        p: file_cid(d) for p, d in tree.items()
    }
    assert seen == {p: len(d) for p, d in tree.items()}
    again = sdk.upload_many([tmp_path / "dir"], skip_existing=True)
    assert all(r.skipped for r in again)
    assert len(list(sdk.iter_files(page_size=5))) == len(tree)


def test_parallel_uploads_report_each_failure(settings: Settings, tmp_path: Path) -> None:
    server = LiveServer(settings_with(settings, allowed_content_types=["text/*"]))
    server.start()
    try:
        tree = make_tree(
            tmp_path, {"ok1.txt": b"one", "bad.bin": b"\x00\x01binary", "ok2.txt": b"2"}
        )
        with Client(server.url, tokens=tokens(server)) as client:
            results = client.upload_many(sorted(tree), parallel=3)
        by_name = {r.source.name: r for r in results}
        assert by_name["ok1.txt"].ok
        assert by_name["ok2.txt"].ok
        error = by_name["bad.bin"].error
        assert error is not None
        assert getattr(error, "status", None) == 415
    finally:
        server.stop()


# ---------------------------------------------------------------------- downloads


def test_tampered_blob_is_detected_and_nothing_is_kept(
    sdk: Client, tmp_path: Path, settings: Settings
) -> None:
    data = os.urandom(BIG)
    file = sdk.upload(io.BytesIO(data), filename="t.bin")
    flip_byte(blob_path(settings, file.cid), 4 * MiB)
    out = tmp_path / "out"
    out.mkdir()

    with pytest.raises(IntegrityError) as info:
        sdk.download(file.id, out / "t.bin")
    assert info.value.expected == file.cid
    assert info.value.actual == file_cid(
        data[: 4 * MiB] + bytes([data[4 * MiB] ^ 0xFF]) + data[4 * MiB + 1 :]
    )
    assert list(out.iterdir()) == []  # no file, no partial
    with pytest.raises(IntegrityError):
        sdk.download(file.cid, io.BytesIO())


def test_interrupted_download_resumes_from_the_partial_file(sdk: Client, tmp_path: Path) -> None:
    data = os.urandom(BIG)
    file = sdk.upload(io.BytesIO(data), filename="r.bin")
    target = tmp_path / "r.bin"

    class Stop(Exception):
        pass

    def stop_midway(done: int, total: int | None) -> None:
        if done >= 2 * MiB:
            raise Stop

    with pytest.raises(Stop):
        sdk.download(file.id, target, progress=stop_midway)
    partial = partial_path(target, file.cid)
    kept = partial.stat().st_size
    assert 2 * MiB <= kept < len(data)
    assert not target.exists()

    starts: list[int] = []
    result = sdk.download(file.id, target, progress=lambda done, total: starts.append(done))
    assert result.resumed_from == kept
    assert starts[0] == kept  # only the rest came over the wire
    assert target.read_bytes() == data
    assert not partial.exists()


def test_a_bad_partial_file_is_replaced_by_a_fresh_download(sdk: Client, tmp_path: Path) -> None:
    data = os.urandom(BIG)
    file = sdk.upload(io.BytesIO(data), filename="p.bin")
    target = tmp_path / "p.bin"
    partial_path(target, file.cid).write_bytes(os.urandom(MiB))  # not the file's first MiB

    result = sdk.download(file.id, target)
    assert target.read_bytes() == data
    assert result.resumed_from == 0
    assert no_partials(tmp_path)


def test_a_broken_connection_is_resumed_with_range(live_server: LiveServer, tmp_path: Path) -> None:
    data = os.urandom(BIG)
    with Client(live_server.url, tokens=tokens(live_server)) as direct:
        file = direct.upload(io.BytesIO(data), filename="c.bin")
    with (
        CuttingProxy(live_server.port, cut=3 * MiB) as proxy,
        Client(proxy.url, tokens=tokens(live_server)) as client,
    ):
        result = client.download(file.cid, tmp_path / "c.bin")
    assert proxy.cut_done
    assert (tmp_path / "c.bin").read_bytes() == data
    (asked,) = proxy.range_requests()
    offset = int(asked.split("=")[1].rstrip("-"))
    assert 2 * MiB <= offset <= 3 * MiB  # resumed near where the bytes stopped, not from zero
    assert result.size == len(data)


def test_a_download_that_keeps_failing_keeps_its_partial(
    live_server: LiveServer, tmp_path: Path
) -> None:
    data = os.urandom(BIG)
    with Client(live_server.url, tokens=tokens(live_server)) as direct:
        file = direct.upload(io.BytesIO(data), filename="k.bin")
    target = tmp_path / "k.bin"
    with (
        CuttingProxy(live_server.port, cut=MiB) as proxy,
        Client(proxy.url, tokens=tokens(live_server)) as client,
        pytest.raises(Interrupted) as info,
    ):
        client.download(file.cid, target, retries=0)
    assert info.value.received == partial_path(target, file.cid).stat().st_size > 0
    with Client(live_server.url, tokens=tokens(live_server)) as direct:
        assert direct.download(file.cid, target).resumed_from == info.value.received
    assert target.read_bytes() == data


def test_download_refuses_to_replace_a_file_unless_asked(sdk: Client, tmp_path: Path) -> None:
    file = sdk.upload(io.BytesIO(b"new"), filename="n.txt")
    target = tmp_path / "n.txt"
    target.write_bytes(b"old")
    with pytest.raises(FileExistsError):
        sdk.download(file.id, target)
    assert target.read_bytes() == b"old"
    sdk.download(file.id, target, overwrite=True)
    assert target.read_bytes() == b"new"


def test_download_into_a_folder_uses_a_safe_name(sdk: Client, tmp_path: Path) -> None:
    file = sdk.upload(io.BytesIO(b"x"), filename="../../etc/passwd")
    result = sdk.download(file.id, tmp_path)
    assert result.path is not None
    assert result.path.parent == tmp_path
    assert result.path.read_bytes() == b"x"


# ---------------------------------------------------------------------- records and errors


def test_file_records_update_trash_restore(sdk: Client) -> None:
    file = sdk.upload(io.BytesIO(b"r"), filename="r.txt")
    assert sdk.get_file(file.id).filename == "r.txt"
    renamed = sdk.update_file(file.id, filename="s.txt", visibility="public")
    assert (renamed.filename, renamed.visibility) == ("s.txt", "public")
    trashed = sdk.delete_file(file.id)
    assert trashed.deleted_at is not None
    assert [f.id for f in sdk.list_files(trashed=True)] == [file.id]
    with pytest.raises(NotFound, match="trash"):
        sdk.get_file(file.id)
    assert sdk.restore_file(file.id).deleted_at is None


def test_a_moderator_hides_and_shows_a_file(live_server: LiveServer, sdk: Client) -> None:
    file = sdk.upload(io.BytesIO(b"in plain sight"), filename="p.txt")
    public = sdk.update_file(file.id, visibility="public")
    assert public.hidden is False
    with pytest.raises(Forbidden):
        sdk.update_file(file.id, hidden=True)  # owners do not moderate
    live_server.sign_in("moderator", username="file-mod")
    with Client(live_server.url, tokens=Tokens(live_server.token)) as moderator:
        assert moderator.update_file(file.id, hidden=True).hidden is True
        with Client(live_server.url) as guest, pytest.raises(NotFound):
            guest.get_file(file.id)
        assert sdk.get_file(file.id).hidden is True  # its owner still sees it
        assert moderator.update_file(file.id, hidden=False).hidden is False
    with Client(live_server.url) as guest:
        assert guest.get_file(file.id).filename == "p.txt"


def test_pages_are_followed_to_the_end(sdk: Client) -> None:
    ids = [sdk.upload(io.BytesIO(bytes([i])), filename=f"{i}.bin").id for i in range(5)]
    page = sdk.list_files(limit=2)
    assert len(page) == 2
    assert page.next is not None
    assert [f.id for f in sdk.iter_files(page_size=2)] == ids[::-1]


def test_errors_carry_the_problem_details(sdk: Client) -> None:
    with pytest.raises(NotFound) as missing:
        sdk.get_file("01aaaaaaaaaaaaaaaaaaaaaaaa")
    assert missing.value.status == 404
    assert missing.value.problem["title"] == "Not found"
    assert "no file with id" in missing.value.detail
    with pytest.raises(Invalid) as bad:
        sdk.list_files(cursor="!!not-a-cursor")
    assert bad.value.status == 422
    assert bad.value.errors == [{"field": "cursor", "message": bad.value.detail}]
    with pytest.raises(NotFound):
        sdk.download(file_cid(b"never stored"), io.BytesIO())


def test_an_unreachable_server_is_one_clear_error() -> None:
    with (
        Client(f"http://127.0.0.1:{free_port()}") as client,
        pytest.raises(ConnectionFailed) as info,
    ):
        client.list_files()
    assert "cannot reach http://127.0.0.1:" in str(info.value)


def test_a_bad_server_address_is_refused() -> None:
    with pytest.raises(ValueError, match="http"):
        Client("ftp://example.org")


async def test_async_download_detects_tampering_and_resumes_a_break(
    live_server: LiveServer, tmp_path: Path, settings: Settings
) -> None:
    data = os.urandom(BIG)
    out = tmp_path / "out"
    out.mkdir()
    async with AsyncClient(live_server.url, tokens=tokens(live_server)) as client:
        file = await client.upload(io.BytesIO(data), filename="a.bin")
    with CuttingProxy(live_server.port, cut=3 * MiB) as proxy:
        async with AsyncClient(proxy.url, tokens=tokens(live_server)) as client:
            result = await client.download(file.id, out / "a.bin")
    assert (out / "a.bin").read_bytes() == data
    assert result.size == len(data)
    assert len(proxy.range_requests()) == 1

    flip_byte(blob_path(settings, file.cid), 17)
    async with AsyncClient(live_server.url, tokens=tokens(live_server)) as client:
        with pytest.raises(IntegrityError):
            await client.download(file.cid, out / "b.bin")
    assert sorted(p.name for p in out.iterdir()) == ["a.bin"]
