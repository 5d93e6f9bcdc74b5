"""Copying a local file into the temp area while hashing it: read, hash and write overlap
on three threads, and the copy takes no page cache."""

from __future__ import annotations

import errno
import itertools
import mmap
import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from threading import Event

import blake3

from mcore.storage.local._direct import copy_buffer, open_direct, release, write_chunk

COPY_CHUNK = 16 * 1024 * 1024  # a local copy moves through a few buffers of this size
COPY_BUFFERS = 4


def copy_and_hash(
    src: int, temp: Path, fd: int, chunk: int = COPY_CHUNK, stop: Event | None = None
) -> bytes:
    """Copy ``src`` into the empty file ``temp`` (open as ``fd``); return the BLAKE3 digest
    of the bytes written.

    The main thread reads chunks into a few page-aligned buffers while one thread hashes
    each buffer and another writes it to disk with ``O_DIRECT``: read, hash and write
    overlap, and the copy takes no page cache. (A buffered copy has to allocate and write
    back a second file's worth of cache; on this kind of virtual machine that allocation
    alone often cost more than the whole copy.) Where ``O_DIRECT`` is refused the same
    writes go through the page cache. ``stop``, once set, ends the copy before its next
    chunk with ``InterruptedError``.
    """
    size = os.fstat(src).st_size
    hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
    if size == 0:
        return hasher.digest()
    chunk = min(chunk, -(-size // mmap.PAGESIZE) * mmap.PAGESIZE)
    buffers = [copy_buffer(chunk) for _ in range(min(COPY_BUFFERS, -(-size // chunk)))]
    direct = open_direct(temp)
    in_flight: deque[tuple[Future[object], Future[None]]] = deque()
    offset = 0
    try:
        with (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="hash") as hashing,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="write") as writing,
        ):
            try:
                for turn in itertools.count():
                    if len(in_flight) == len(buffers):  # the oldest buffer comes free
                        for step in in_flight.popleft():
                            step.result()
                    if stop is not None and stop.is_set():
                        raise InterruptedError(errno.EINTR, "the copy was stopped")
                    buffer = buffers[turn % len(buffers)]
                    got = os.preadv(src, [buffer], offset)
                    if got == 0:
                        break
                    view = memoryview(buffer)[:got]
                    in_flight.append(
                        (
                            hashing.submit(hasher.update, view),
                            writing.submit(write_chunk, direct, fd, view, offset),
                        )
                    )
                    del view
                    offset += got
                while in_flight:
                    for step in in_flight.popleft():
                        step.result()
            finally:
                for steps in in_flight:
                    for step in steps:
                        step.cancel()
                in_flight.clear()
    finally:
        if direct is not None:
            os.close(direct)
        for buffer in buffers:
            release(buffer)
    if offset != size or os.fstat(src).st_size != size:
        raise OSError(errno.EIO, "the source file changed size while it was being copied")
    return hasher.digest()


def hash_while_syncing(path: Path, fd: int) -> bytes:
    """BLAKE3 of a file read back from the page cache while another thread fsyncs it."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        synced = pool.submit(os.fsync, fd)
        hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
        if os.fstat(fd).st_size:
            hasher.update_mmap(path)
        synced.result()
    return hasher.digest()
