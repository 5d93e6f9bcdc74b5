"""Slow clients: a request's head and each chunk of its body must arrive in time.

A socket that trickles its headers, or stalls mid-body, holds the server's memory (and an
upload's temp file) for as long as it likes unless something ends it; uvicorn has a
keep-alive timeout but nothing for a request still arriving, and httptools no limit on
the size of a head. So:

- ``guarded_protocol``: uvicorn's httptools protocol, plus a deadline for the request line
  and headers (``request_header_timeout``, from the connection's opening or from the first
  byte of a later request on it) and a bound on their size (``max_header_size``). Past
  either, the client gets 408 or 431 and is disconnected before any of the app runs.
- ``body_timeout_middleware``: each chunk of a request body must arrive within
  ``request_body_timeout`` of the app asking for it; otherwise the app gets
  ``BodyTimedOut``, answered 408 with ``Connection: close``. An upload aborted this way
  keeps nothing (its stager removes the temp file). The time the app spends writing is not
  counted, only the time spent waiting on the client, and nothing is counted once the
  body is complete (a streamed response may still listen for the disconnect).

Past ``max_concurrency`` uvicorn answers a plain-text 503 of its own; the guarded protocol
answers it as problem details with ``Retry-After`` instead, as every other error is.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, cast

from litestar.types import ASGIApp, HTTPScope, Receive, ReceiveMessage, Scope, Send
from uvicorn.protocols.http.flow_control import service_unavailable
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.state import app_state

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _problem(status: int, reason: str, detail: str) -> bytes:
    body = json.dumps(
        {"type": "about:blank", "title": reason, "status": status, "detail": detail}
    ).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "content-type: application/problem+json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


BUSY_RETRY_AFTER = 1  # seconds


async def _busy(scope: Scope, receive: Receive, send: Send) -> None:
    """The answer past ``max_concurrency``: 503 problem details, before any of the app."""
    body = json.dumps(
        {
            "type": "about:blank",
            "title": "Service Unavailable",
            "status": 503,
            "detail": "the server is serving as many requests as it may at once"
            " (max_concurrency); try again shortly",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(BUSY_RETRY_AFTER).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


class _GuardedProtocol(HttpToolsProtocol):
    """httptools' protocol with a deadline and a size bound on each request's head."""

    header_timeout = 10.0
    max_head = 64 * 1024

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_bytes = 0
        self._in_head = True
        super().connection_made(transport)
        self._arm()

    def _arm(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _answering(self) -> bool:
        """Whether a response to an earlier request on this connection is under way (a
        client pipelining its next request): no refusal may be written into it."""
        return self.cycle is not None and not self.cycle.response_complete

    def _refuse(self, response: bytes) -> None:
        self._disarm()
        if not self.transport.is_closing():
            if not self._answering():
                self.transport.write(response)
            self.transport.close()

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._in_head and self._answering():
            self._arm()  # the next head is timed once the server has answered this one
            return
        if self._in_head:
            seconds = f"{self.header_timeout:g}"
            self._refuse(
                _problem(
                    408,
                    "Request Timeout",
                    f"the request line and headers did not arrive within {seconds} seconds",
                )
            )

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._in_head and self._head_bytes > self.max_head:
            self._refuse(
                _problem(
                    431,
                    "Request Header Fields Too Large",
                    f"the request line and headers are larger than {self.max_head} bytes",
                )
            )

    def on_message_begin(self) -> None:
        self._in_head = True
        self._head_bytes = 0
        self._arm()
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._disarm()
        super().on_headers_complete()

    def _start_asgi_task(self, cycle: Any, app: Any) -> None:
        # uvicorn picks its own plain-text 503 past `limit_concurrency`; ours says why
        super()._start_asgi_task(cycle, cast(Any, _busy) if app is service_unavailable else app)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def guarded_protocol(header_timeout: float, max_header_size: int) -> type[asyncio.Protocol]:
    """The protocol class to give uvicorn as ``http=``, with these limits."""
    return type(
        "GuardedHttpToolsProtocol",
        (_GuardedProtocol,),
        {"header_timeout": header_timeout, "max_head": max_header_size},
    )


class BodyTimedOut(Exception):
    """A request body stopped arriving: the client was slower than ``request_body_timeout``."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no part of the request body arrived for {seconds:g} seconds")
        self.seconds = seconds


class _BodyDeadline:
    """``receive`` with a deadline on each body chunk.

    One timer per request, re-armed lazily: a chunk costs two clock reads, not a timer
    (an upload of a GiB receives thousands of chunks). When the deadline passes while the
    app waits, the request's task is cancelled and the wait raises ``BodyTimedOut``.
    """

    def __init__(self, receive: Receive, seconds: float) -> None:
        self._receive = receive
        self.seconds = seconds
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        self._asked: float | None = None  # when the app started waiting, while it waits
        self._timer: asyncio.TimerHandle | None = None
        self._complete = False
        self.expired = False

    async def __call__(self) -> ReceiveMessage:
        if self._complete:
            return await self._receive()
        if self.expired:
            raise BodyTimedOut(self.seconds)
        self._asked = self._loop.time()
        if self._timer is None:
            self._timer = self._loop.call_at(self._asked + self.seconds, self._check)
        try:
            message = await self._receive()
        except asyncio.CancelledError:
            task = self._task
            if self.expired and task is not None and task.uncancel() == 0:
                raise BodyTimedOut(self.seconds) from None
            raise
        finally:
            self._asked = None
        if message["type"] != "http.request" or not message.get("more_body", False):
            self._complete = True
            self.close()
        return message

    def _check(self) -> None:
        self._timer = None
        asked = self._asked
        now = self._loop.time()
        if asked is not None and now - asked >= self.seconds:
            self.expired = True
            if self._task is not None:
                self._task.cancel()
            return
        start = asked if asked is not None else now
        self._timer = self._loop.call_at(start + self.seconds, self._check)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def body_timeout_middleware(app: ASGIApp) -> ASGIApp:
    """Give requests that carry a body a deadline on each of its chunks (the seconds come
    from ``settings.request_body_timeout`` in the app's state)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or cast(HTTPScope, scope)["method"] not in BODY_METHODS:
            await app(scope, receive, send)
            return
        settings = app_state(scope["litestar_app"].state).settings
        deadline = _BodyDeadline(receive, settings.request_body_timeout.total_seconds())
        try:
            await app(scope, deadline, send)
        finally:
            deadline.close()

    return middleware
