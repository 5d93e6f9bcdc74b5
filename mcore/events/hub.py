"""One reader of the events table per server process, fanning rows out to subscribers.

However many sockets are open, a wake-up (or, without one, a poll) costs one query: the
hub reads the new rows once and hands each to the subscriptions of the user it is for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from mcore.db import Database
from mcore.events.log import Event, events_after, last_event_id
from mcore.events.wakeup import EVENTS, Bus

log = logging.getLogger("mstack.events")

BATCH = 500
QUEUE_LIMIT = 1000  # events a subscriber may lag behind before it must resume by replay


@dataclass(eq=False)
class Subscription:
    """The live events of one user for one socket."""

    user_id: str
    queue: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    overflowed: bool = False
    woken: asyncio.Event = field(default_factory=asyncio.Event)

    def put(self, event: Event) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True
        self.woken.set()


class EventHub:
    """Follows the events table for this process's subscribers."""

    def __init__(self, db: Database, bus: Bus, *, poll_interval: float) -> None:
        self.db = db
        self.bus = bus
        self.poll_interval = poll_interval
        self.high = 0
        self.queries = 0  # reads of the events table since start (tests check it stays low)
        self._subscribers: dict[str, set[Subscription]] = {}
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def subscribe(self, user_id: str) -> Subscription:
        """Start receiving ``user_id``'s new events; everything after ``self.high`` at this
        moment will arrive."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="mstack-event-hub")
        await self._ready.wait()
        sub = Subscription(user_id)
        self._subscribers.setdefault(user_id, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        subs = self._subscribers.get(sub.user_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subscribers[sub.user_id]

    def wake_all(self) -> None:
        """Wake every subscriber (each checks that its session is still live)."""
        for subs in self._subscribers.values():
            for sub in subs:
                sub.woken.set()

    async def _run(self) -> None:
        async with self.db.session() as session:
            self.high = await last_event_id(session)
        self._ready.set()
        while True:
            seen = self.bus.generation(EVENTS)
            try:
                if self._subscribers:
                    await self._drain()
            except Exception:
                log.exception("reading new events failed; trying again")
            await self.bus.wait(EVENTS, seen, self.poll_interval)
            self.wake_all()

    async def _drain(self) -> None:
        while True:
            async with self.db.session() as session:
                rows = await events_after(session, after=self.high, limit=BATCH)
            self.queries += 1
            for row in rows:
                assert row.id is not None
                self.high = row.id
                for sub in self._subscribers.get(row.user_id, ()):
                    sub.put(row)
            if len(rows) < BATCH:
                return

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
