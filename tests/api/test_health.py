"""Liveness and readiness: /health/ready names the dependency that does not answer."""

from __future__ import annotations

import socket
import subprocess

import pytest

from mcore.settings import Settings, StorageSettings
from tests.apphelpers import fast, running_app
from tests.conftest import free_port, wait_for


async def test_ready_when_everything_answers(settings: Settings) -> None:
    with_redis = settings.model_copy(update={"redis_url": "redis://127.0.0.1:6379/0"})
    async with running_app(fast(with_redis), worker=False) as app:
        assert (await app.http.get("/health")).json() == {"status": "ok"}
        r = await app.http.get("/health/ready")
        assert r.status_code == 200, r.text
        assert r.json() == {
            "status": "ready",
            "checks": {"database": "ok", "blob_store": "ok", "redis": "ok"},
        }


async def test_not_ready_names_redis(settings: Settings) -> None:
    # a Redis of this test's own, stopped while the server runs
    port = free_port()
    redis = subprocess.Popen(
        [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        await wait_for(lambda: _listening(port), timeout=10)
        own = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{port}/0"})
        async with running_app(fast(own), worker=False) as app:
            assert (await app.http.get("/health/ready")).status_code == 200
            redis.kill()
            redis.wait()
            r = await app.http.get("/health/ready")
            assert r.status_code == 503
            assert r.headers["content-type"] == "application/problem+json"
            body = r.json()
            assert body["checks"] == {"database": "ok", "blob_store": "ok", "redis": "failed"}
            assert "redis" in body["detail"]
            assert (await app.http.get("/health")).status_code == 200  # alive all the same
    finally:
        redis.kill()
        redis.wait()


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


@pytest.fixture
def backend() -> str:
    return "sqlite"


async def test_not_ready_names_the_blob_store(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    storage = StorageSettings(
        backend="s3",
        s3_endpoint=f"http://127.0.0.1:{free_port()}",
        s3_bucket="gone",
        s3_max_retries=0,
        s3_retry_timeout="PT1S",  # type: ignore[arg-type]
    )
    down = settings.model_copy(update={"storage": storage})
    async with running_app(fast(down), worker=False) as app:
        r = await app.http.get("/health/ready")
        assert r.status_code == 503
        assert r.json()["checks"]["blob_store"] == "failed"
        assert r.json()["checks"]["database"] == "ok"
