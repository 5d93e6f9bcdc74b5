"""Temp files are held by the process writing them (an advisory lock the kernel drops when
it dies): a sweep removes the orphans of a crash at any age and never a live one, in its
own process or another."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mcore.maintenance import remove_orphaned_temp
from mcore.storage import LocalBlobStore, TempFile
from mcore.storage.local import HELD_SUFFIX

# A process of its own that stages a copy (as `mstack ingest` does) and holds it until its
# standard input closes, or it is killed.
HOLDER = """
import sys
from pathlib import Path
from mcore.storage import LocalBlobStore
root = Path(sys.argv[1])
store = LocalBlobStore(root / "blobs", root / "tmp")
staged = store.copy_in_sync(root / "source.bin")
print(staged.temp_path, flush=True)
sys.stdin.read()
"""


@pytest.fixture
def local(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs", tmp_path / "tmp")


async def temps(store: LocalBlobStore) -> list[TempFile]:
    return [t async for t in store.iter_temp()]


async def test_a_writer_holds_its_temp_file_until_it_is_placed_or_discarded(
    local: LocalBlobStore,
) -> None:
    writer = local.writer()
    await writer.write(b"x" * (2 * 1024 * 1024))
    (temp,) = await temps(local)
    assert temp.held is True
    assert temp.path.name.endswith(HELD_SUFFIX)
    assert await local.remove_temp(temp) is False  # a second open conflicts, same process too
    assert (await remove_orphaned_temp(local)).live == 1
    staged = await writer.finish()
    assert [t.held for t in await temps(local)] == [True]  # waiting for its transaction
    assert await local.place(staged) is True
    assert await temps(local) == []
    await local.discard(staged)  # what callers do after their transaction: harmless

    again = local.writer()
    await again.write(b"x" * (2 * 1024 * 1024))
    dedup = await again.finish()
    assert await local.place(dedup) is False  # the same bytes: the temp file waits for discard
    assert [t.held for t in await temps(local)] == [True]
    await local.discard(dedup)
    assert await temps(local) == []

    aborted = local.writer()
    await aborted.write(b"cut short")
    await aborted.abort()
    assert await temps(local) == []


async def test_a_copy_is_held_like_an_upload(local: LocalBlobStore, tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(3 * 1024 * 1024))
    staged = local.copy_in_sync(source)
    assert [t.held for t in await temps(local)] == [True]
    assert (await remove_orphaned_temp(local)).removed == []
    await local.discard(staged)
    assert await temps(local) == []


async def test_a_temp_file_let_go_without_being_removed_is_an_orphan(
    local: LocalBlobStore,
) -> None:
    writer = local.writer()
    await writer.write(b"dropped by a bug")
    staged = await writer.finish()
    staged.release()  # neither placed nor discarded: nobody holds it now
    (temp,) = await temps(local)
    assert temp.held is False
    dry = await remove_orphaned_temp(local, dry_run=True)
    assert (dry.removed, dry.freed_bytes) == ([temp.path.name], len(b"dropped by a bug"))
    assert temp.path.exists()
    assert (await remove_orphaned_temp(local)).removed == [temp.path.name]
    assert not temp.path.exists()


async def test_another_live_process_keeps_its_temp_file_until_it_is_killed(
    local: LocalBlobStore, tmp_path: Path
) -> None:
    (tmp_path / "source.bin").write_bytes(os.urandom(1024 * 1024))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        path = Path(holder.stdout.readline().strip())
        assert path.parent == local.tmp_dir
        assert path.exists()
        (temp,) = await temps(local)
        assert temp.held is True
        assert await local.remove_temp(temp) is False
        sweep = await remove_orphaned_temp(local)
        assert (sweep.removed, sweep.live) == ([], 1)
        assert path.exists()
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
        (temp,) = await temps(local)
        assert temp.held is False  # the kernel dropped the lock with the process
        assert (await remove_orphaned_temp(local, dry_run=True)).removed == [path.name]
        assert path.exists()
        assert (await remove_orphaned_temp(local)).removed == [path.name]
        assert not path.exists()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=10)


async def test_files_without_a_marker_are_not_judged_by_a_lock(local: LocalBlobStore) -> None:
    stray = local.tmp_dir / "from-an-older-version.part"
    stray.write_bytes(b"whose?")
    (temp,) = await temps(local)
    assert temp.held is None
    assert (await remove_orphaned_temp(local)).removed == []  # gc judges it by its age
    assert stray.exists()
