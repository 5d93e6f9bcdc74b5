"""``GET /metrics`` (Prometheus text format) and the ASGI wrapper that counts requests.

The wrapper sits outside everything (the fast blob path included), so every request is
counted once, labelled by its route template (never the raw path: one series per route,
not per file). ``/metrics`` answers with a bearer token when ``metrics_token`` is set, and
otherwise only to callers on this machine (loopback).
"""

from __future__ import annotations

import hmac
import time
from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, get
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy import func
from sqlmodel import col, select

from api.deps import App
from api.errors import problem
from api.openapi import doc
from mcore import logs, metrics
from mcore.jobs.models import Job, JobState
from mcore.logs import accept_request_id

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
BLOB_ROUTE = "/blobs/{cid}"  # as Litestar writes its path_template
CONTENT_ROUTE = "/api/v1/files/{file_id}/content"
UPLOAD_ROUTE = "/api/v1/files"


def _route_of(scope: Any) -> str:
    template = scope.get("path_template")
    if template:
        return str(template).rstrip("/") or "/"
    path = scope.get("path", "")
    if path.startswith("/blobs/"):
        return BLOB_ROUTE  # answered by the fast path, before routing
    if path.startswith("/api/v1/files/") and path.endswith("/content"):
        return CONTENT_ROUTE
    return "unmatched"


def _header(scope: Any, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class MetricsMiddleware:
    """Counts, times and measures every HTTP request (the outermost ASGI layer), and
    gives it its request id (``mcore.logs``), returned as ``X-Request-ID``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers if the app raises before starting a reply
        sent = received = 0
        rid = accept_request_id(_header(scope, b"x-request-id"))
        token = logs.request_id.set(rid)
        rid_header = (b"x-request-id", rid.encode())

        async def counting_receive() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
            return message

        async def counting_send(message: Any) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), rid_header]}
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, counting_receive, counting_send)
        finally:
            logs.request_id.reset(token)
            route, method = _route_of(scope), scope["method"]
            series = _series(route, method, status)
            series.requests.inc()
            series.latency.observe(time.perf_counter() - started)
            if received:
                series.bytes_in.inc(received)
            if sent:
                series.bytes_out.inc(sent)
            if route == UPLOAD_ROUTE and method == "POST":
                outcome = "stored" if status < 400 else "refused" if status < 500 else "failed"
                metrics.uploads.labels(outcome).inc()


class _Series:
    """The labelled children of one route, method and status: ``labels()`` costs a lock
    and a validation each time, which a blob read served in tens of microseconds feels."""

    __slots__ = ("bytes_in", "bytes_out", "latency", "requests")

    def __init__(self, route: str, method: str, status: int) -> None:
        self.requests = metrics.http_requests.labels(route, method, str(status))
        self.latency = metrics.http_latency.labels(route, method)
        self.bytes_in = metrics.http_bytes_in.labels(route)
        self.bytes_out = metrics.http_bytes_out.labels(route)


_SERIES: dict[tuple[str, str, int], _Series] = {}
_SERIES_MAX = 10_000  # route templates x methods x statuses: bounded, but be sure


def _series(route: str, method: str, status: int) -> _Series:
    key = (route, method, status)
    found = _SERIES.get(key)
    if found is None:
        if len(_SERIES) >= _SERIES_MAX:
            _SERIES.clear()
        found = _SERIES[key] = _Series(route, method, status)
    return found


def _allowed(request: Request[Any, Any, Any], token: str | None) -> bool:
    if token is not None:
        given = request.headers.get("authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    client = request.client.host if request.client else ""
    return client in LOOPBACK


async def _refresh(app: Any) -> None:
    """Set the gauges read at scrape time: the shared job queue, this process's worker,
    image cache and database pool."""
    now = datetime.now(UTC)
    async with app.db.session() as session:
        by_state = (
            await session.exec(
                select(col(Job.kind), col(Job.state), func.count()).group_by(
                    col(Job.kind), col(Job.state)
                )
            )
        ).all()
        queued = (
            await session.exec(
                select(col(Job.lane), func.count(), func.min(col(Job.created_at)))
                .where(col(Job.state) == JobState.queued)
                .group_by(col(Job.lane))
            )
        ).all()
    metrics.jobs.clear()
    for kind, state, count in by_state:
        metrics.jobs.labels(kind, state).set(count)
    metrics.queue_depth.clear()
    metrics.queue_oldest.clear()
    for lane in ("fresh", "bulk"):
        metrics.queue_depth.labels(lane).set(0)
        metrics.queue_oldest.labels(lane).set(0)
    for lane, count, oldest in queued:
        metrics.queue_depth.labels(lane).set(count)
        if oldest is not None:
            if oldest.tzinfo is None:
                oldest = oldest.replace(tzinfo=UTC)
            metrics.queue_oldest.labels(lane).set(max(0.0, (now - oldest).total_seconds()))
    # worker_slots and worker_busy_slots are kept by the worker itself (here, or in
    # `mstack worker --metrics-port`)
    stats = app.image_cache_stats
    metrics.image_cache_hits.set(stats.hits)
    metrics.image_cache_misses.set(stats.misses)
    metrics.image_cache_evictions.set(stats.evictions)
    pool = app.db.engine.sync_engine.pool
    checked_out = getattr(pool, "checkedout", None)
    idle = getattr(pool, "checkedin", None)
    if callable(checked_out) and callable(idle):
        metrics.db_pool.labels("in_use").set(checked_out())
        metrics.db_pool.labels("idle").set(idle())


@get(
    "/metrics",
    summary="Prometheus metrics of this process",
    tags=["system"],
    opt=doc(
        "metrics",
        403,
        success_media_types={CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
    ),
)
async def metrics_route(request: Request[Any, Any, Any], app_state: App) -> Response[Any]:
    """This process's metrics in the Prometheus text format. With `metrics_token` set,
    needs `Authorization: Bearer <token>`; otherwise answers only on loopback."""
    secret = app_state.settings.metrics_token
    if not _allowed(request, secret.get_secret_value() if secret is not None else None):
        return problem(403, "metrics are only for the monitoring system")
    await _refresh(app_state)
    from mcore.media.imagecache import cache_size

    _, total = await cache_size(app_state.db)
    metrics.image_cache_bytes.set(total)
    return Response(
        generate_latest(REGISTRY),
        media_type=CONTENT_TYPE_LATEST,
        headers={"Cache-Control": "no-store"},
    )
