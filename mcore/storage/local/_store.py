"""The local blob store: a folder of read-only files named by CID, written by atomic rename."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from threading import Event

from mcore.cid import RAW, cid_from_digest, digest_of, is_canonical
from mcore.storage.base import BlobInfo, BlobStore, Hold, StagedBlob, TempFile
from mcore.storage.local._copy import copy_and_hash, hash_while_syncing
from mcore.storage.local._direct import fsync_dir
from mcore.storage.local._held import create_held, held_now, is_held_name, remove_if_unheld
from mcore.storage.local._writer import LocalBlobWriter

READ_CHUNK = 1024 * 1024


class LocalBlobStore(BlobStore):
    """The embedded default: a folder of read-only files named by CID."""

    def __init__(self, blob_dir: Path, tmp_dir: Path) -> None:
        self.blob_dir = blob_dir
        self.tmp_dir = tmp_dir
        blob_dir.mkdir(parents=True, exist_ok=True)
        tmp_dir.mkdir(parents=True, exist_ok=True)

    def path_for(self, cid: str) -> Path:
        hexdigest = digest_of(cid).hex()
        return self.blob_dir / hexdigest[:2] / hexdigest[2:4] / cid

    def local_path(self, cid: str) -> Path | None:
        return self.path_for(cid)

    def writer(self) -> LocalBlobWriter:
        return LocalBlobWriter(self.tmp_dir)

    def copy_in_sync(self, src: Path, stop: Event | None = None) -> StagedBlob:
        """Copy while hashing (see ``copy_and_hash``), then fsync."""
        if stop is not None and stop.is_set():
            raise InterruptedError(errno.EINTR, "the copy was stopped")
        temp, hold = create_held(self.tmp_dir, os.O_RDWR)
        fd = hold.fd
        try:
            with open(src, "rb") as source:
                digest = copy_and_hash(source.fileno(), temp, fd, stop=stop)
            os.fsync(fd)
            size = os.fstat(fd).st_size
        except BaseException:
            temp.unlink(missing_ok=True)
            hold.release()
            raise
        # the descriptor stays open, holding the file, until it is placed or discarded
        return StagedBlob(cid=cid_from_digest(digest, RAW), size=size, temp_path=temp, hold=hold)

    def adopt_sync(self, src: Path) -> StagedBlob | None:
        if os.stat(src).st_dev != os.stat(self.tmp_dir).st_dev:
            return None
        fd = os.open(src, os.O_RDONLY | os.O_CLOEXEC)
        try:
            digest = hash_while_syncing(src, fd)
            size = os.fstat(fd).st_size
        finally:
            os.close(fd)
        return StagedBlob(cid=cid_from_digest(digest, RAW), size=size, temp_path=src, adopted=True)

    def stage_hashed_sync(self, path: Path, cid: str, size: int, hold: Hold) -> StagedBlob:
        """The file itself, made durable, to be moved under its CID by ``place`` (which
        releases ``hold`` once it is there)."""
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        return StagedBlob(cid=cid, size=size, temp_path=path, hold=hold)

    def _place(self, staged: StagedBlob) -> bool:
        target = self.path_for(staged.cid)
        if target.exists():
            os.utime(target)  # a fresh time keeps gc's grace period away from it
            if staged.adopted:  # `ingest --move`: the moved file is not kept twice
                os.unlink(staged.temp_path)
            # a temp file stays for discard(), which callers run after their transaction:
            # unlinking a large file takes time that the write lock need not wait for
            return False
        shard = target.parent
        if not shard.exists():
            shard.mkdir(parents=True, exist_ok=True)
            fsync_dir(shard.parent)
            fsync_dir(shard.parent.parent)
        os.chmod(staged.temp_path, stat.S_IRUSR | stat.S_IRGRP)
        os.rename(staged.temp_path, target)
        staged.release()  # no temp file is left to hold
        fsync_dir(shard)
        return True

    async def place(self, staged: StagedBlob) -> bool:
        return await asyncio.to_thread(self._place, staged)

    async def discard(self, staged: StagedBlob) -> None:
        if staged.adopted:
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(staged.temp_path)
        staged.release()  # after the unlink: no sweep ever sees it unheld

    async def stat(self, cid: str) -> BlobInfo | None:
        try:
            st = os.stat(self.path_for(cid))
        except FileNotFoundError:
            return None
        return BlobInfo(cid=cid, size=st.st_size, mtime=st.st_mtime)

    async def read(self, cid: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        path = self.path_for(cid)
        fd = await asyncio.to_thread(os.open, path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            if end is None:
                end = os.fstat(fd).st_size
            pos = start
            while pos < end:
                data = await asyncio.to_thread(os.pread, fd, min(READ_CHUNK, end - pos), pos)
                if not data:
                    break
                pos += len(data)
                yield data
        finally:
            os.close(fd)

    async def delete(self, cid: str) -> None:
        path = self.path_for(cid)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
            fsync_dir(path.parent)

    async def iter(self) -> AsyncIterator[BlobInfo]:
        for first in sorted(self.blob_dir.iterdir()):
            if not first.is_dir():
                continue
            for second in sorted(first.iterdir()):
                if not second.is_dir():
                    continue
                for entry in sorted(os.scandir(second), key=lambda e: e.name):
                    if is_canonical(entry.name) and entry.is_file():
                        st = entry.stat()
                        yield BlobInfo(cid=entry.name, size=st.st_size, mtime=st.st_mtime)

    async def iter_temp(self) -> AsyncIterator[TempFile]:
        for entry in os.scandir(self.tmp_dir):
            try:
                if not entry.is_file(follow_symlinks=False):
                    continue
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # placed or discarded meanwhile
            path = Path(entry.path)
            held: bool | None = None
            if is_held_name(path):
                held = await asyncio.to_thread(held_now, path)
                if held is None:
                    continue
            yield TempFile(path=path, size=st.st_size, mtime=st.st_mtime, held=held)

    async def remove_temp(self, temp: TempFile) -> bool:
        if is_held_name(temp.path):
            return await asyncio.to_thread(remove_if_unheld, temp.path)
        try:
            os.unlink(temp.path)
        except FileNotFoundError:
            return False
        return True
