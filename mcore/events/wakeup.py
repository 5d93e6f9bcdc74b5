"""Wake-up signals between processes: "look again", never the data itself.

Events and jobs are rows; a signal only saves the reader a poll. In the embedded default
the signal stays in the process (asyncio); with ``redis_url`` it also goes over Redis
pub/sub so API servers and ``mstack worker`` processes wake each other. A lost signal
costs at most one poll interval, never a row.

A transaction marks the topics it touched (``mark``); the signal fires after it commits,
so nobody wakes up before the rows are visible.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.settings import Settings

log = logging.getLogger("mstack.wakeup")

EVENTS = "events"
JOBS = "jobs"
TOPICS = (EVENTS, JOBS)
_INFO_KEY = "mstack_wake"


class Signal:
    """A generation counter that waiters can sleep on, bound to one event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.generation = 0
        self._event = asyncio.Event()

    def _fire(self) -> None:
        self.generation += 1
        fired, self._event = self._event, asyncio.Event()
        fired.set()

    def fire(self) -> None:
        """Wake every waiter; safe to call from any thread."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            self._fire()
        elif not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._fire)

    async def wait(self, seen: int, patience: float) -> int:
        """Return the generation once it differs from ``seen`` or ``patience`` seconds pass."""
        if self.generation != seen:
            return self.generation
        waiting = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(waiting.wait(), patience)
        return self.generation


class Bus:
    """Signals by topic for one database, in this process and (with Redis) across processes."""

    def __init__(self, settings: Settings) -> None:
        self.key = bus_key(settings.db_url)
        self.redis_url = settings.redis_url
        self.prefix = settings.redis_prefix
        self.loop = asyncio.get_running_loop()
        self.signals = {topic: Signal(self.loop) for topic in TOPICS}
        self._redis: Any = None
        self._listener: asyncio.Task[None] | None = None
        self._sends: set[asyncio.Task[Any]] = set()
        self.users = 0

    def channel(self, topic: str) -> str:
        """The Redis channel of a topic, per database (processes on other databases that
        share the Redis server do not wake each other)."""
        return f"{self.prefix}wake:{self.key}:{topic}"

    async def start(self) -> None:
        if self.redis_url is None or self._redis is not None:
            return
        import redis.asyncio as aioredis

        self._redis = aioredis.Redis.from_url(self.redis_url)
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(*(self.channel(t) for t in TOPICS))
        self._listener = asyncio.create_task(self._listen(pubsub), name="mstack-redis-listener")

    async def _listen(self, pubsub: Any) -> None:
        from redis.exceptions import RedisError  # its ConnectionError is not the builtin's

        by_channel = {self.channel(t).encode(): t for t in TOPICS}
        try:
            while True:
                try:
                    async for message in pubsub.listen():
                        topic = by_channel.get(message.get("channel"))
                        if topic is not None:
                            self.signals[topic].fire()
                except (RedisError, ConnectionError, OSError, TimeoutError) as exc:
                    # Readers fall back to polling until Redis answers again.
                    log.warning("redis wake-up channel lost (%s); retrying", exc)
                    await asyncio.sleep(1)
                    with contextlib.suppress(Exception):
                        await pubsub.subscribe(*(self.channel(t) for t in TOPICS))
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    def notify(self, topic: str) -> None:
        """Wake this process's waiters on ``topic`` and, with Redis, every other process's."""
        self.signals[topic].fire()
        if self._redis is not None:
            self.loop.call_soon_threadsafe(self._send, topic)

    def _send(self, topic: str) -> None:
        task = self.loop.create_task(self._publish(topic))
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)

    async def _publish(self, topic: str) -> None:
        try:
            await self._redis.publish(self.channel(topic), b"1")
        except Exception as exc:  # a lost wake-up only delays readers by one poll
            log.warning("could not publish a wake-up on redis: %s", exc)

    async def wait(self, topic: str, seen: int, patience: float) -> int:
        return await self.signals[topic].wait(seen, patience)

    def generation(self, topic: str) -> int:
        return self.signals[topic].generation

    async def aclose(self) -> None:
        if self._sends:
            await asyncio.gather(*self._sends, return_exceptions=True)
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None


_buses: dict[str, list[Bus]] = {}


def bus_key(url: str) -> str:
    """A short name for a database, the same in every process that uses it."""
    rendered = make_url(url).render_as_string(hide_password=False)
    return hashlib.blake2b(rendered.encode(), digest_size=8).hexdigest()


async def acquire_bus(settings: Settings) -> Bus:
    """The bus of this database on this event loop (shared by the server and an in-process
    worker); release it with :func:`release_bus`."""
    key = bus_key(settings.db_url)
    loop = asyncio.get_running_loop()
    buses = _buses.setdefault(key, [])
    bus = next((b for b in buses if b.loop is loop), None)
    if bus is None:
        bus = Bus(settings)
        await bus.start()
        buses.append(bus)
    bus.users += 1
    return bus


async def release_bus(bus: Bus) -> None:
    bus.users -= 1
    if bus.users > 0:
        return
    buses = _buses.get(bus.key, [])
    if bus in buses:
        buses.remove(bus)
    if not buses:
        _buses.pop(bus.key, None)
    await bus.aclose()


def notify_local(key: str, topic: str) -> None:
    """Wake this process's waiters (on every loop) for a database."""
    for bus in list(_buses.get(key, ())):
        bus.notify(topic)


def mark(session: AsyncSession, topic: str) -> None:
    """Signal ``topic`` once this session's transaction commits."""
    session.sync_session.info.setdefault(_INFO_KEY, set()).add(topic)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    topics = session.info.pop(_INFO_KEY, None)
    if not topics:
        return
    # Nobody in this process may listen: other processes then poll (or hear Redis).
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    key = bus_key(engine.url.render_as_string(hide_password=False))
    for topic in topics:
        notify_local(key, topic)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_INFO_KEY, None)
