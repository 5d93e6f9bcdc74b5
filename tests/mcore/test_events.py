"""Events are rows written with the change they report; readers wake after the commit."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from mcore.access import Actor, Role
from mcore.db import Database
from mcore.events import (
    EVENT_SCOPES,
    EventType,
    events_after,
    first_event_id,
    last_event_id,
    may_hear,
    prune_events,
    publish,
)
from mcore.events.wakeup import EVENTS, Bus, acquire_bus, release_bus
from mcore.settings import Settings
from tests.conftest import REQUIRE_TOOLS


async def _publish(db: Database, user: str, n: int) -> None:
    async with db.session(write=True) as session:
        await publish(session, user_id=user, type=EventType.file_stored, payload={"n": n})


def test_every_kind_of_event_names_the_scope_that_hears_it() -> None:
    assert set(EVENT_SCOPES) == set(EventType)
    key = Actor(id="u", role=Role.user, scopes=frozenset({"records:read"}), key_id="k")
    session = Actor(id="u", role=Role.user, session_id="s")
    assert [may_hear(key, kind) for kind in EventType] == [
        EVENT_SCOPES[kind] in (None, "records:read") for kind in EventType
    ]
    assert not may_hear(key, EventType.file_ready)
    assert may_hear(key, EventType.message_created)  # conversations read under records:read
    assert all(may_hear(session, kind) for kind in EventType)
    assert not may_hear(key, "some.kind.added.later")  # unlisted kinds need files:read


async def _publish_then_fail(db: Database) -> None:
    async with db.session(write=True) as session:
        await publish(session, user_id="u1", type=EventType.file_stored, payload={})
        raise RuntimeError("the change failed")


async def test_sequence_numbers_grow_and_rollback_leaves_nothing(
    db: Database, settings: Settings
) -> None:
    bus = await acquire_bus(settings)
    try:
        seen = bus.generation(EVENTS)
        with pytest.raises(RuntimeError):
            await _publish_then_fail(db)
        assert bus.generation(EVENTS) == seen  # nobody was woken for a rolled-back event
        await _publish(db, "u1", 1)
        assert bus.generation(EVENTS) == seen + 1
        await _publish(db, "u2", 2)
        await _publish(db, "u1", 3)
        async with db.session() as session:
            everything = await events_after(session, after=0)
            mine = await events_after(session, after=0, user_id="u1")
            assert await last_event_id(session) == everything[-1].id
        ids = [e.id for e in everything]
        assert ids == sorted(ids)
        assert len(ids) == 3
        assert [e.payload["n"] for e in mine] == [1, 3]
        assert all(e.type == "file.stored" for e in mine)
    finally:
        await release_bus(bus)


async def test_waiters_wake_on_commit_not_before(db: Database, settings: Settings) -> None:
    bus = await acquire_bus(settings)
    try:
        seen = bus.generation(EVENTS)
        waiter = asyncio.create_task(bus.wait(EVENTS, seen, 5))
        async with db.session(write=True) as session:
            await publish(session, user_id="u", type=EventType.job_progress, payload={})
            await asyncio.sleep(0.05)
            assert not waiter.done()
        assert await asyncio.wait_for(waiter, 1) == seen + 1
    finally:
        await release_bus(bus)


async def test_prune_keeps_the_newest_so_ids_never_restart(
    db: Database, frozen_clock: object
) -> None:
    for n in range(3):
        await _publish(db, "u", n)
    clock = frozen_clock
    clock.offset += 3600  # type: ignore[attr-defined]
    async with db.session(write=True) as session:
        removed = await prune_events(session, before=clock.now() - timedelta(minutes=1))  # type: ignore[attr-defined]
    assert removed == 2
    async with db.session() as session:
        newest = await last_event_id(session)
        assert await first_event_id(session) == newest
    await _publish(db, "u", 9)
    async with db.session() as session:
        assert await last_event_id(session) == newest + 1


async def test_redis_carries_wake_ups_between_processes(settings: Settings) -> None:
    """Two buses for one database (as in two processes): a commit seen through one wakes
    the other through Redis alone."""
    redis_settings = settings.model_copy(update={"redis_url": "redis://127.0.0.1:6379/15"})
    here, there = Bus(redis_settings), Bus(redis_settings)
    try:
        await here.start()
        await there.start()
    except OSError as exc:
        if REQUIRE_TOOLS:
            pytest.fail(f"Redis is required (MSTACK_REQUIRE_TOOLS=1) but not reachable: {exc}")
        pytest.skip(f"Redis is not reachable: {exc}")
    try:
        await asyncio.sleep(0.1)  # subscriptions settle
        seen = there.generation(EVENTS)
        here.notify(EVENTS)
        assert await there.wait(EVENTS, seen, 5) == seen + 1
        seen_jobs = there.generation("jobs")
        here.notify("jobs")
        assert await there.wait("jobs", seen_jobs, 5) == seen_jobs + 1
    finally:
        await here.aclose()
        await there.aclose()


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_events_on_postgresql_follow_commit_order(settings: Settings) -> None:
    """Concurrent publishers on PostgreSQL: ids become visible in order, so a reader that
    follows ``id > last`` never skips one that commits late."""
    db = Database(settings)
    try:
        first_in = asyncio.Event()

        async def slow() -> None:
            async with db.session(write=True) as session:
                await publish(session, user_id="u", type=EventType.file_stored, payload={"n": 1})
                first_in.set()
                await asyncio.sleep(0.3)

        async def fast() -> None:
            await first_in.wait()
            async with db.session(write=True) as session:
                await publish(session, user_id="u", type=EventType.file_stored, payload={"n": 2})

        slow_task = asyncio.create_task(slow())
        fast_task = asyncio.create_task(fast())
        await first_in.wait()
        await asyncio.sleep(0.1)
        async with db.session() as session:
            # the second publisher waits for the first's commit, so nothing is visible yet
            assert await events_after(session, after=0) == []
        await asyncio.gather(slow_task, fast_task)
        async with db.session() as session:
            rows = await events_after(session, after=0)
        assert [r.payload["n"] for r in rows] == [1, 2]
        assert rows[0].id is not None
        assert rows[1].id is not None
        assert rows[0].id < rows[1].id
    finally:
        await db.dispose()
