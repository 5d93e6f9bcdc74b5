"""``/health`` (liveness: the process answers) and ``/health/ready`` (readiness: what it
depends on answers: the database, Redis when configured, and the blob store)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Response, get
from sqlalchemy import text

from api.deps import App
from api.errors import PROBLEM
from api.openapi import doc
from mcore.cid import file_cid

log = logging.getLogger("mstack.api")

CHECK_TIMEOUT = 3.0  # seconds each dependency gets to answer
PROBE_CID = file_cid(b"mstack readiness probe")  # asked for, never expected to be there


@get("/health", summary="Liveness", tags=["system"], opt=doc("health"))
async def health() -> dict[str, str]:
    """`{"status": "ok"}` while the process answers; it checks nothing else."""
    return {"status": "ok"}


async def _database(app: Any) -> None:
    async with app.db.session() as session:
        await session.exec(text("SELECT 1"))


async def _redis(url: str) -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url, socket_timeout=CHECK_TIMEOUT)
    try:
        await client.ping()
    finally:
        await client.aclose()


async def _store(app: Any) -> None:
    await app.store.stat(PROBE_CID)


async def _check(name: str, probe: Callable[[], Awaitable[None]]) -> tuple[str, str]:
    try:
        await asyncio.wait_for(probe(), CHECK_TIMEOUT)
    except Exception as exc:  # any failure means not ready; say which, log why
        log.warning("readiness: %s failed: %s", name, type(exc).__name__)
        return name, "failed"
    return name, "ok"


@get("/health/ready", summary="Readiness", tags=["system"], opt=doc("health_ready", 503))
async def ready(app_state: App) -> Response[dict[str, Any]]:
    """Whether this process can serve: the database, Redis (when configured) and the blob
    store each answer within a few seconds. 503 names the one that did not."""
    probes: dict[str, Callable[[], Awaitable[None]]] = {
        "database": lambda: _database(app_state),
        "blob_store": lambda: _store(app_state),
    }
    redis_url = app_state.settings.redis_url
    if redis_url:
        probes["redis"] = lambda: _redis(redis_url)
    checks = dict(await asyncio.gather(*(_check(n, p) for n, p in probes.items())))
    failed = sorted(name for name, state in checks.items() if state != "ok")
    if not failed:
        return Response({"status": "ready", "checks": checks})
    body = {
        "type": "about:blank",
        "title": "Service unavailable",
        "status": 503,
        "detail": f"not ready: {', '.join(failed)} did not answer",
        "checks": checks,
    }
    return Response(body, status_code=503, media_type=PROBLEM, headers={"Retry-After": "5"})
