"""``WS /api/v1/events``: a user's live events, replayed from a sequence number.

The client authenticates in its first message (never in the URL, which gets logged):
``{"type": "auth", "token": "...", "after": <last seq seen, optional>}``; a web page,
signed in by its session cookie, sends ``"csrf": "<the page's CSRF token>"`` instead of
``token``. The server
replays what the client missed (when ``after`` is given), answers
``{"type": "ready", "seq": <n>}``, then follows. docs/api.md (``## WebSocket``) has the
whole protocol, and a test keeps it naming every message type and close code used here.
Each event is ``{"type": "file.ready", "seq": 42, "at": "...", "data": {...}}``; a socket
hears only the kinds its credential's scopes may read (``mcore.events.may_hear``: an API
key without ``files:read`` hears no file or job events), so sequence numbers may skip.
A client too far behind for the kept history gets ``{"type": "reset"}`` and should
reload its state. The socket closes (4401) when authentication fails or times out, (4403) when
the session behind it is revoked or expires, and (4408) when the client falls too far behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from litestar import WebSocket, websocket
from litestar.datastructures import State
from litestar.exceptions import WebSocketDisconnect

from api import callers
from api.browser import session_cookie_value
from api.state import AppState, app_state
from mcore import metrics
from mcore.access import Actor
from mcore.db import Database
from mcore.events import events_after, first_event_id, last_event_id, may_hear, message
from mcore.events.hub import Subscription

CLOSE_UNAUTHENTICATED = 4401
CLOSE_SESSION_ENDED = 4403
CLOSE_TOO_SLOW = 4408
REPLAY_BATCH = 500
MAX_SEQ = 2**63 - 1  # event ids are signed 64-bit: a larger `after` is no sequence number


async def _authenticate(
    socket: WebSocket[Any, Any, Any], app: AppState
) -> tuple[Actor, int | None]:
    settings = app.settings
    try:
        raw = await asyncio.wait_for(
            socket.receive_text(), settings.events.auth_timeout.total_seconds()
        )
        first = json.loads(raw)
    except TimeoutError:
        raise _Close(CLOSE_UNAUTHENTICATED, "authenticate in the first message") from None
    except ValueError:
        raise _Close(CLOSE_UNAUTHENTICATED, "the first message must be JSON") from None
    if not isinstance(first, dict) or first.get("type") != "auth":
        raise _Close(CLOSE_UNAUTHENTICATED, 'the first message must be {"type": "auth", ...}')
    token = first.get("token")
    after = first.get("after")
    if after is not None and (
        not isinstance(after, int) or isinstance(after, bool) or not 0 <= after <= MAX_SEQ
    ):
        raise _Close(CLOSE_UNAUTHENTICATED, "after must be a sequence number")
    csrf = first.get("csrf")
    if isinstance(token, str):
        actor = await callers.authenticate_token(app, token)
    elif isinstance(csrf, str):
        actor = await _browser_actor(socket, app, csrf)
    else:
        actor = None
    if actor is None:
        raise _Close(CLOSE_UNAUTHENTICATED, "the token is not valid")
    return actor, after


async def _browser_actor(
    socket: WebSocket[Any, Any, Any], app: AppState, csrf: str
) -> Actor | None:
    """A web page's socket: signed in by the session cookie of its handshake, and proving
    it is one of this site's pages by the session's CSRF token (which another site's page
    cannot know, though its handshake may carry the cookie)."""
    cookie = session_cookie_value(socket.cookies)
    actor = await app.auth.authenticate_browser(cookie) if cookie is not None else None
    if actor is None or not app.auth.browser.csrf_ok(csrf, session_id=actor.session_id):
        return None
    return actor


class _Close(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


async def _replay(socket: WebSocket[Any, Any, Any], db: Database, actor: Actor, after: int) -> int:
    """Send the user's events after ``after``; return the last sequence number sent."""
    async with db.session() as session:
        oldest = await first_event_id(session)
    if oldest is not None and after < oldest - 1:
        await socket.send_json({"type": "reset", "reason": "history before this point is gone"})
        async with db.session() as session:
            return await last_event_id(session)
    last = after
    while True:
        async with db.session() as session:
            rows = await events_after(session, after=last, user_id=actor.id, limit=REPLAY_BATCH)
        for row in rows:
            if may_hear(actor, row.type):
                await socket.send_json(message(row))
            assert row.id is not None
            last = row.id
        if len(rows) < REPLAY_BATCH:
            return last


async def _follow(
    socket: WebSocket[Any, Any, Any], app: AppState, actor: Actor, sub: Subscription, last: int
) -> None:
    every = app.settings.events.liveness_check.total_seconds()
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(sub.woken.wait(), every)
        sub.woken.clear()
        if sub.overflowed:
            raise _Close(CLOSE_TOO_SLOW, f"too far behind; reconnect with after={last}")
        while not sub.queue.empty():
            row = sub.queue.get_nowait()
            assert row.id is not None
            if row.id > last:
                if may_hear(actor, row.type):
                    await socket.send_json(message(row))
                last = row.id
        # after every wake-up and at least every few seconds: is the session still valid?
        if not await callers.actor_is_live(app, actor):
            raise _Close(CLOSE_SESSION_ENDED, "the session has ended; sign in again")


async def _drain_client(socket: WebSocket[Any, Any, Any]) -> None:
    """Read (and ignore) what the client sends, so a disconnect is noticed at once."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await socket.receive_data("text")


@websocket("/api/v1/events")
async def events_socket(socket: WebSocket[Any, Any, Any], state: State) -> None:
    """Live events of the signed-in user (see the module's description)."""
    await socket.accept()
    metrics.event_sockets.inc()
    app = app_state(state)
    hub, db = app.hub, app.db
    sub: Subscription | None = None
    try:
        actor, after = await _authenticate(socket, app)
        sub = await hub.subscribe(actor.id)
        last = hub.high if after is None else await _replay(socket, db, actor, after)
        await socket.send_json({"type": "ready", "seq": last})
        follower = asyncio.create_task(_follow(socket, app, actor, sub, last))
        reader = asyncio.create_task(_drain_client(socket))
        try:
            done, _ = await asyncio.wait({follower, reader}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (follower, reader):
                task.cancel()
            for task in (follower, reader):
                with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, _Close):
                    await task
        if follower in done:
            follower.result()  # raises the _Close that ended it
    except _Close as close:
        with contextlib.suppress(Exception):
            await socket.close(code=close.code, reason=close.reason)
    except WebSocketDisconnect:
        pass
    finally:
        metrics.event_sockets.dec()
        if sub is not None:
            hub.unsubscribe(sub)
