"""GET /metrics: Prometheus text a real parser reads, one series per route (never per
path), the job queue read from the database, and only for the monitoring system."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from api.app import create_app
from mcore.settings import Settings
from tests import media
from tests.conftest import LiveServer


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_requests_by_route_and_read_the_queue(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, headers=live_server.headers) as http:
        before = samples(http.get("/metrics").text)
        photo = media.jpeg(64, 48)
        r = http.post("/api/v1/files", params={"filename": "a.jpg"}, content=photo)
        assert r.status_code == 201
        record = r.json()[0]
        refused = http.post("/api/v1/files", params={"filename": "b", "cid": "nope"}, content=b"x")
        assert refused.status_code in (400, 422)
        for _ in range(2):  # the first read through the route, the second by the fast path
            assert http.get(f"/blobs/{record['cid']}").status_code == 200
        assert http.get(f"/api/v1/files/{record['id']}").status_code == 200
        assert http.get("/api/v1/nothing/here").status_code == 404
        r = http.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    after = samples(r.text)

    def grew(name: str, by: float = 1, **labels: str) -> None:
        assert value(after, name, **labels) - value(before, name, **labels) >= by, (name, labels)

    grew("mstack_http_requests_total", route="/api/v1/files", method="POST", status="201")
    grew("mstack_http_requests_total", by=2, route="/blobs/{cid}", method="GET", status="200")
    grew(
        "mstack_http_requests_total",
        route="/api/v1/files/{file_id}",
        method="GET",
        status="200",
    )
    grew("mstack_http_requests_total", route="unmatched", method="GET", status="404")
    grew("mstack_uploads_total", outcome="stored")
    grew("mstack_uploads_total", outcome="refused")
    grew("mstack_http_received_bytes_total", by=len(photo), route="/api/v1/files")
    grew("mstack_http_sent_bytes_total", by=2 * len(photo), route="/blobs/{cid}")
    grew("mstack_http_request_duration_seconds_count", route="/api/v1/files", method="POST")
    # no series names a file, a CID or a raw path
    routes = {dict(labels).get("route") for _, labels in after}
    assert not any(record["cid"] in str(r) or record["id"] in str(r) for r in routes)
    assert "/api/v1/nothing/here" not in routes
    # the image's job waits in the database (this server runs no worker)
    assert value(after, "mstack_job_queue_depth", lane="fresh") == 1
    assert value(after, "mstack_job_queue_oldest_seconds", lane="fresh") >= 0
    assert value(after, "mstack_jobs", kind="process_file", state="queued") == 1
    assert value(after, "mstack_worker_busy_slots") == 0
    assert ("mstack_db_pool_connections", (("state", "in_use"),)) in after


@pytest.fixture
def backend() -> str:
    return "sqlite"


async def test_metrics_are_only_for_the_monitoring_system(settings: Settings) -> None:
    guarded = settings.model_copy(update={"metrics_token": SecretStr("scrape-me-please")})
    app = create_app(guarded)
    async with app.lifespan():
        remote = httpx.ASGITransport(app=app, client=("203.0.113.9", 4000))
        async with httpx.AsyncClient(transport=remote, base_url="http://mstack.test") as http:
            assert (await http.get("/metrics")).status_code == 403
            wrong = {"Authorization": "Bearer nope"}
            assert (await http.get("/metrics", headers=wrong)).status_code == 403
            right = {"Authorization": "Bearer scrape-me-please"}
            assert (await http.get("/metrics", headers=right)).status_code == 200
    open_app = create_app(settings)  # no token: loopback only
    async with open_app.lifespan():
        remote = httpx.ASGITransport(app=open_app, client=("203.0.113.9", 4000))
        async with httpx.AsyncClient(transport=remote, base_url="http://mstack.test") as http:
            r = await http.get("/metrics")
            assert r.status_code == 403
            assert r.headers["content-type"] == "application/problem+json"
        local = httpx.ASGITransport(app=open_app, client=("127.0.0.1", 4000))
        async with httpx.AsyncClient(transport=local, base_url="http://mstack.test") as http:
            assert (await http.get("/metrics")).status_code == 200


def test_a_worker_process_serves_its_own_metrics(settings: Settings, tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    from tests.conftest import free_port

    port = free_port()
    env = {
        **os.environ,
        "MSTACK_DATA_DIR": str(settings.data_dir),
        "MSTACK_DATABASE_URL": settings.db_url,
        "MSTACK_CONFIG": "",
        "MSTACK_JOBS__CONCURRENCY": "3",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from mstack_client._launch import main; main()",
            "worker",
            "--metrics-port",
            str(port),
        ],
        env=env,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
                if "mstack_worker_slots 3.0" in text:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the worker's metrics did not come up"
            time.sleep(0.1)
        assert value(samples(text), "mstack_worker_busy_slots") == 0
    finally:
        proc.terminate()
        proc.wait(timeout=30)
