"""The few steps ``AsyncClient`` and ``Client`` take differently, each written twice here.

Everything else of the two clients is written once, in ``aclient.py``; ``python -m
codegen`` writes ``Client`` from it (``codegen/unasync.py``), turning each asyncio name
below into its synchronous twin next to it: ``alocked`` into ``locked``,
``amap_bounded`` into ``map_bounded``, ``AsyncSinkWriter`` into ``SinkWriter``,
``acheck_status`` into ``check_status``.

asyncio is imported only where the async twins run, so ``Client`` and the ``mstack``
command start without it (about 13 ms).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import httpx

from mstack_client._core import TokenStore
from mstack_client._transfer import CHUNK, Sink
from mstack_client.errors import error_from_response

T = TypeVar("T")
R = TypeVar("R")

# -- the token store's lock (a lock file: it blocks) -----------------------------------------


@contextlib.asynccontextmanager
async def alocked(store: TokenStore) -> AsyncIterator[None]:
    """Hold the token store's lock, taken in a worker thread so the event loop runs on."""
    import asyncio

    lock = store.lock()
    await asyncio.to_thread(lock.__enter__)
    try:
        yield
    finally:
        lock.__exit__(None, None, None)


def locked(store: TokenStore) -> contextlib.AbstractContextManager[None]:
    """Hold the token store's lock."""
    return store.lock()


# -- work on many items at once ------------------------------------------------------------


async def amap_bounded(
    work: Callable[[T], Awaitable[R]],
    items: Sequence[T],
    *,
    limit: int,
    stop: threading.Event,
    name: str,
) -> list[R]:
    """``work`` on every item, ``limit`` tasks at a time, the results in order; when it is
    interrupted, ``stop`` tells the tasks still running to give up."""
    import asyncio

    slots = asyncio.Semaphore(max(1, limit))

    async def bounded(item: T) -> R:
        async with slots:
            return await work(item)

    try:
        return list(await asyncio.gather(*(bounded(item) for item in items)))
    except BaseException:
        stop.set()
        raise


def map_bounded(
    work: Callable[[T], R], items: Sequence[T], *, limit: int, stop: threading.Event, name: str
) -> list[R]:
    """``work`` on every item in ``limit`` threads named ``name``, the results in order;
    when it is interrupted (Ctrl-C), ``stop`` tells the work still running to give up, and
    what has not started never starts."""
    with ThreadPoolExecutor(max_workers=max(1, limit), thread_name_prefix=name) as pool:
        try:
            return list(pool.map(work, items))
        except BaseException:
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise


# -- downloaded bytes into their sink --------------------------------------------------------


class AsyncSinkWriter:
    """Writes downloaded bytes into a sink from a worker thread, a MiB or more at a time
    (a thread for each piece the network hands over would cost more than the writes)."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.pending = bytearray()

    async def write(self, chunk: bytes) -> None:
        import asyncio

        self.pending += chunk
        if len(self.pending) >= CHUNK:
            await asyncio.to_thread(self.sink.write, bytes(self.pending))
            self.pending.clear()

    def close(self) -> None:
        """Write what is held back, at once (also when the download is being cancelled, so
        what arrived before a break is kept)."""
        if self.pending:
            self.sink.write(bytes(self.pending))
            self.pending.clear()


class SinkWriter:
    """Writes downloaded bytes into a sink as they arrive."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    def write(self, chunk: bytes) -> None:
        self.sink.write(chunk)

    def close(self) -> None:
        """Nothing is held back."""


# -- error responses -------------------------------------------------------------------------


async def acheck_status(response: httpx.Response) -> None:
    """``check_status`` for an async streamed response."""
    if response.is_error:
        with contextlib.suppress(httpx.StreamError, httpx.TransportError):
            await response.aread()
        raise error_from_response(response)


def check_status(response: httpx.Response) -> None:
    """Raise the error of an error response (reading its body first if it was streamed)."""
    if response.is_error:
        with contextlib.suppress(httpx.StreamError, httpx.TransportError):
            response.read()
        raise error_from_response(response)
