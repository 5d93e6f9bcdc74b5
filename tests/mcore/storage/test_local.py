import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mcore.cid import digest_of, file_cid
from mcore.storage import LocalBlobStore


async def put(store: LocalBlobStore, data: bytes) -> str:
    writer = store.writer()
    for i in range(0, len(data), 1000):
        await writer.write(data[i : i + 1000])
    staged = await writer.finish()
    await store.place(staged)
    return staged.cid


async def collect(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([c async for c in chunks])


@pytest.mark.parametrize(
    "size",
    [
        100,  # one plain write
        3 * 1024 * 1024 + 17,  # past the writer's chunk: through the disk buffer, one flush
        9 * 1024 * 1024 + 5,  # two full 4 MiB buffers straight to disk, then the rest
    ],
)
async def test_put_hashes_and_places_read_only(store: LocalBlobStore, size: int) -> None:
    data = os.urandom(size)
    cid = await put(store, data)
    assert cid == file_cid(data)
    path = store.path_for(cid)
    hexdigest = digest_of(cid).hex()
    # sharded on the digest, not on the constant CID prefix
    assert path.relative_to(store.blob_dir).parts == (hexdigest[:2], hexdigest[2:4], cid)
    assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert await collect(store.read(cid)) == data
    assert await collect(store.read(cid, 10, 20)) == data[10:20]
    assert list(store.tmp_dir.iterdir()) == []


async def test_identical_bytes_stored_once_and_touched(store: LocalBlobStore) -> None:
    cid = await put(store, b"same bytes")
    path = store.path_for(cid)
    os.utime(path, (1_000_000, 1_000_000))
    writer = store.writer()
    await writer.write(b"same bytes")
    staged = await writer.finish()
    assert await store.place(staged) is False
    assert path.stat().st_mtime > 1_000_000  # touched: gc's grace period starts again
    # the copy is dropped by discard(), after the caller's transaction, not under its lock
    assert staged.temp_path.exists()
    await store.discard(staged)
    assert not staged.temp_path.exists()
    assert [b.cid async for b in store.iter()] == [cid]


async def test_abort_removes_temp_and_never_a_blob(store: LocalBlobStore) -> None:
    cid = await put(store, b"kept")
    writer = store.writer()
    await writer.write(b"k" * (2 * 1024 * 1024))
    await writer.abort()
    await writer.abort()  # idempotent
    assert list(store.tmp_dir.iterdir()) == []
    assert [b.cid async for b in store.iter()] == [cid]


async def test_finish_then_discard_leaves_nothing(store: LocalBlobStore) -> None:
    writer = store.writer()
    await writer.write(b"staged only")
    staged = await writer.finish()
    assert staged.temp_path.exists()
    await store.discard(staged)
    assert list(store.tmp_dir.iterdir()) == []
    assert [b async for b in store.iter()] == []


async def test_delete_and_stat(store: LocalBlobStore) -> None:
    cid = await put(store, b"to delete")
    info = await store.stat(cid)
    assert info is not None
    assert info.size == 9
    await store.delete(cid)
    assert await store.stat(cid) is None
    await store.delete(cid)  # deleting twice is harmless


async def test_write_after_finish_is_an_error(store: LocalBlobStore) -> None:
    writer = store.writer()
    await writer.write(b"x")
    staged = await writer.finish()
    with pytest.raises(RuntimeError):
        await writer.write(b"y")
    await store.discard(staged)


def test_iter_ignores_foreign_files(store: LocalBlobStore, tmp_path: Path) -> None:
    (store.blob_dir / "README").write_text("not a blob")
    (store.blob_dir / "aa").mkdir()
    (store.blob_dir / "aa" / "bb").mkdir()
    (store.blob_dir / "aa" / "bb" / "junk").write_text("not a cid")

    async def run() -> list[str]:
        return [b.cid async for b in store.iter()]

    import asyncio

    assert asyncio.run(run()) == []


def test_a_stopped_copy_raises_and_leaves_no_temp_file(
    store: LocalBlobStore, tmp_path: Path
) -> None:
    import threading

    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(1024))
    stop = threading.Event()
    stop.set()
    with pytest.raises(InterruptedError):
        store.copy_in_sync(src, stop)
    assert list(store.tmp_dir.iterdir()) == []


def test_a_refused_direct_write_goes_through_the_page_cache(tmp_path: Path) -> None:
    from mcore.storage.local._direct import open_direct, write_chunk

    dst = tmp_path / "dst.bin"
    fd = os.open(dst, os.O_RDWR | os.O_CREAT, 0o600)
    direct = open_direct(dst)
    assert direct is not None  # ext4, xfs, btrfs; tmpfs too since Linux 6.6
    data = os.urandom(3 * 4096 + 5)
    try:
        # memory one byte off a block boundary: the kernel refuses it for O_DIRECT (EINVAL)
        misaligned = memoryview(bytearray(b"x" + data))[1:]
        write_chunk(direct, fd, misaligned, 0)
        write_chunk(direct, fd, memoryview(bytearray(b"tail")), len(data))  # not aligned
    finally:
        os.close(direct)
        os.close(fd)
    assert dst.read_bytes() == data + b"tail"


@pytest.mark.parametrize("size", [0, 1, 5 * 1024 * 1024 + 17])
def test_copy_in_hashes_the_copy_chunk_by_chunk(
    store: LocalBlobStore, tmp_path: Path, size: int
) -> None:
    from mcore.storage.local._copy import copy_and_hash

    data = os.urandom(size)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    staged = store.copy_in_sync(src)  # 16 MiB chunks: one
    assert staged.cid == file_cid(data)
    assert staged.size == size
    assert staged.temp_path.read_bytes() == data
    assert src.read_bytes() == data  # a copy: the source stays
    # several chunks: block-aligned ones go straight to disk, the others through the cache
    for chunk in (1024 * 1024, 1024 * 1024 + 512):
        dst = tmp_path / f"dst-{chunk}.bin"
        with open(src, "rb") as s, open(dst, "w+b") as d:
            digest = copy_and_hash(s.fileno(), dst, d.fileno(), chunk=chunk)
        assert digest == digest_of(file_cid(data))
        assert dst.read_bytes() == data


_FULL_DISK = """
import asyncio, os, resource, signal, sys
from pathlib import Path
from mcore.storage.local import LocalBlobStore
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
root = Path(sys.argv[1])
store = LocalBlobStore(root / "blobs", root / "tmp")
src = root / "src.bin"
src.write_bytes(os.urandom(40 << 20))
resource.setrlimit(resource.RLIMIT_FSIZE, (10 << 20, resource.RLIM_INFINITY))
try:
    store.copy_in_sync(src)
except OSError as exc:
    print("copy", exc.errno)
async def upload():
    writer = store.writer()
    try:
        for _ in range(40):
            await writer.write(b"x" * (1 << 20))
        await writer.finish()
    except OSError as exc:
        await writer.abort()
        print("upload", exc.errno)
asyncio.run(upload())
print("left", len(list(store.tmp_dir.iterdir())))
"""


def test_a_failing_disk_write_surfaces_as_itself(tmp_path: Path) -> None:
    """A write the disk refuses (here: past a file-size limit, EFBIG, as a full disk gives
    ENOSPC) reaches the caller as that OSError, not hidden behind the buffers' cleanup,
    and leaves no temp file. In a child process: the limit is per process."""
    import errno
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _FULL_DISK, str(tmp_path)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:3] == [
        f"copy {errno.EFBIG}",
        f"upload {errno.EFBIG}",
        "left 0",
    ]
