"""Sending blob bytes over HTTP: validators, ranges, caching and the safety headers.

One ASGI callable serves both ``/api/v1/files/{id}/content`` and ``/blobs/{cid}``.
Content is immutable, so the CID is a strong ETag and clients may cache forever.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections import OrderedDict
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import cast

from litestar.types import HTTPScope, Message, Receive, Scope, Send

from mcore.files.names import content_disposition
from mcore.files.sniff import is_safe_inline
from mcore.records.car import CAR_TYPE, RAW_TYPE, section_prefix
from mcore.records.car import header as car_header
from mcore.storage import BlobStore

# Small blobs are answered from memory: one read, then a dictionary lookup.
SMALL_BLOB = 256 * 1024
CACHE_BYTES = 64 * 1024 * 1024
STREAM_CHUNK = 1024 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass(frozen=True)
class BlobMeta:
    """What the response says about the bytes (type and name come from a file record)."""

    cid: str
    size: int
    content_type: str = "application/octet-stream"
    filename: str | None = None
    public: bool = False
    etag_suffix: str = ""  # another representation of the same bytes has another ETag

    @cached_property
    def etag(self) -> str:
        return f'"{self.cid}{self.etag_suffix}"'

    @cached_property
    def headers(self) -> tuple[tuple[bytes, bytes], ...]:
        """The headers every response for these bytes carries (built once, then reused)."""
        scope = b"public" if self.public else b"private"
        disposition = "inline" if is_safe_inline(self.content_type) else "attachment"
        name = content_disposition(disposition, self.filename or self.cid)
        return (
            (b"etag", self.etag.encode()),
            (b"cache-control", scope + b", max-age=31536000, immutable"),
            (b"accept-ranges", b"bytes"),
            (b"x-content-type-options", b"nosniff"),
            (b"content-security-policy", b"sandbox"),
            (b"content-type", self.content_type.encode("latin-1")),
            (b"content-disposition", name.encode("latin-1")),
            (b"vary", b"Accept"),  # /blobs/{cid} also answers as a raw block or a CAR
        )


class SmallBlobCache:
    """Least-recently-used bytes of small immutable blobs, bounded in total size."""

    def __init__(self, capacity: int = CACHE_BYTES) -> None:
        self.capacity = capacity
        self.used = 0
        self._items: OrderedDict[str, bytes] = OrderedDict()

    def get(self, cid: str) -> bytes | None:
        data = self._items.get(cid)
        if data is not None:
            self._items.move_to_end(cid)
        return data

    def put(self, cid: str, data: bytes) -> None:
        if cid in self._items or len(data) > self.capacity:
            return
        self._items[cid] = data
        self.used += len(data)
        while self.used > self.capacity:
            _, old = self._items.popitem(last=False)
            self.used -= len(old)

    def discard(self, cid: str) -> None:
        data = self._items.pop(cid, None)
        if data is not None:
            self.used -= len(data)


async def _start(send: Send, status: int, headers: list[tuple[bytes, bytes]]) -> None:
    message = {"type": "http.response.start", "status": status, "headers": headers}
    await send(cast(Message, message))


async def _body(send: Send, data: bytes, *, more: bool = False) -> None:
    message = {"type": "http.response.body", "body": data, "more_body": more}
    await send(cast(Message, message))


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def etag_matches(header: str, etag: str) -> bool:
    """Whether an ``If-None-Match`` value names ``etag`` (weak comparison, ``*`` for any)."""
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


def parse_range(header: str | None, size: int) -> tuple[int, int] | bool | None:
    """``(start, end)`` exclusive for one satisfiable range; None to send the whole body;
    False when the range cannot be satisfied (416)."""
    if header is None:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        return None  # several ranges or another unit: send the whole body (RFC 9110 allows it)
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        length = int(last)
        if length == 0 or size == 0:
            return False
        return max(0, size - length), size
    start = int(first)
    end = min(int(last) + 1, size) if last else size
    if start >= size or (last and int(last) < start):
        return False
    return start, end


class BlobResponse:
    """An ASGI response for one blob, answering GET and HEAD."""

    def __init__(
        self,
        meta: BlobMeta,
        store: BlobStore,
        cache: SmallBlobCache | None = None,
        extra_headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        self.meta = meta
        self.store = store
        self.cache = cache
        self.extra_headers = extra_headers or []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        meta = self.meta
        headers = [*meta.headers, *self.extra_headers]
        inm = _header(scope, b"if-none-match")
        if inm is not None and etag_matches(inm, meta.etag):
            # a 304 repeats the validators and caching headers, not the content's
            await _start(send, 304, headers[:5])
            await _body(send, b"")
            return
        threshold = self.store.presign_from
        if threshold is not None and meta.size >= threshold:
            # large blob on a store that serves it itself: the access check is done, so
            # send the client there (its Range and If-None-Match go along)
            url = await self.store.signed_url(meta.cid)
            await _start(
                send,
                307,
                [
                    (b"location", url.encode("latin-1")),
                    (b"cache-control", b"private, no-store"),
                    (b"content-length", b"0"),
                ],
            )
            await _body(send, b"")
            return
        range_header = _header(scope, b"range")
        if range_header is not None:
            if_range = _header(scope, b"if-range")
            if if_range is not None and if_range.strip() != meta.etag:
                range_header = None
        rng = parse_range(range_header, meta.size)
        if rng is False:
            body = json.dumps(
                {
                    "type": "about:blank",
                    "title": "Range not satisfiable",
                    "status": 416,
                    "detail": f"{range_header} is outside the {meta.size} bytes of this file",
                }
            ).encode()
            problem = [
                *meta.headers[:5],
                (b"content-type", b"application/problem+json"),
                (b"content-range", f"bytes */{meta.size}".encode()),
                (b"content-length", str(len(body)).encode()),
            ]
            await _start(send, 416, problem)
            await _body(send, body)
            return
        status = 200
        start, end = 0, meta.size
        if isinstance(rng, tuple):
            start, end = rng
            status = 206
            headers.append((b"content-range", f"bytes {start}-{end - 1}/{meta.size}".encode()))
        headers.append((b"content-length", str(end - start).encode()))
        await _start(send, status, headers)
        if cast(HTTPScope, scope)["method"] == "HEAD":
            await _body(send, b"")
            return
        await self.send_body(send, start, end)

    async def send_body(self, send: Send, start: int, end: int) -> None:
        meta = self.meta
        if meta.size <= SMALL_BLOB:
            data = self.cache.get(meta.cid) if self.cache else None
            if data is None:
                data = await self._read_small()
                if self.cache is not None:
                    self.cache.put(meta.cid, data)
            await _body(send, data[start:end])
            return
        path = self.store.local_path(meta.cid)
        if path is not None:
            await _send_file(send, path, start, end)
            return
        async for chunk in self.store.read(meta.cid, start, end):
            await _body(send, chunk, more=True)
        await _body(send, b"")

    async def _read_small(self) -> bytes:
        path = self.store.local_path(self.meta.cid)
        if path is not None:
            with open(path, "rb") as f:  # small and usually in the page cache
                return f.read()
        return b"".join([chunk async for chunk in self.store.read(self.meta.cid)])


class CarBlobResponse:
    """An ASGI response for one blob as a CAR v1 whose root and one block is the blob (the
    trustless gateway's ``application/vnd.ipld.car``): the header and section prefix,
    then the blob's bytes as ``BlobResponse`` sends them. No ranges."""

    def __init__(self, meta: BlobMeta, store: BlobStore, cache: SmallBlobCache | None) -> None:
        self.meta = replace(
            meta,
            content_type=CAR_TYPE,
            filename=f"{meta.cid}.car",
            etag_suffix=".car",
        )
        self.blob = BlobResponse(meta, store, cache)
        self.prefix = car_header([meta.cid]) + section_prefix(meta.cid, meta.size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(k, v) for k, v in self.meta.headers if k != b"accept-ranges"]
        inm = _header(scope, b"if-none-match")
        if inm is not None and etag_matches(inm, self.meta.etag):
            await _start(send, 304, headers[:4])
            await _body(send, b"")
            return
        length = len(self.prefix) + self.meta.size
        await _start(send, 200, [*headers, (b"content-length", str(length).encode())])
        if cast(HTTPScope, scope)["method"] == "HEAD":
            await _body(send, b"")
            return
        await _body(send, self.prefix, more=True)
        await self.blob.send_body(send, 0, self.meta.size)


def raw_meta(meta: BlobMeta) -> BlobMeta:
    """The same bytes as a raw block (``application/vnd.ipld.raw``), as an attachment."""
    return replace(meta, content_type=RAW_TYPE, filename=f"{meta.cid}.bin", etag_suffix=".raw")


async def _send_file(send: Send, path: Path, start: int, end: int) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        pos = start
        loop = asyncio.get_running_loop()
        while pos < end:
            size = min(STREAM_CHUNK, end - pos)
            data = await loop.run_in_executor(None, os.pread, fd, size, pos)
            if not data:
                break
            pos += len(data)
            await _body(send, data, more=pos < end)
        if pos < end or start == end:
            await _body(send, b"")
    finally:
        os.close(fd)
