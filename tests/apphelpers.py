"""Running the real app (with or without its in-process worker) for media tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from api.app import create_app
from mcore.settings import Settings
from tests.conftest import PASSWORD, create_account, wait_for


def fast(settings: Settings, **media: Any) -> Settings:
    """Settings with short retry waits, so failing jobs finish quickly in tests."""
    jobs = settings.jobs.model_copy(
        update={"retry_backoff": timedelta(milliseconds=20), "poll_interval": timedelta(seconds=1)}
    )
    return settings.model_copy(
        update={"jobs": jobs, "media": settings.media.model_copy(update=media)}
    )


@dataclass
class Running:
    """The app (with its lifespan running) and a client signed in as ``user_id``."""

    app: Any
    http: httpx.AsyncClient
    user_id: str

    @property
    def worker(self) -> Any:
        return self.app.state.worker

    async def upload(self, data: bytes, filename: str) -> dict[str, Any]:
        response = await self.http.post(
            "/api/v1/files", params={"filename": filename}, content=data
        )
        assert response.status_code == 201, response.text
        (record,) = response.json()
        return dict(record)

    async def job(self, job_id: str) -> dict[str, Any]:
        response = await self.http.get(f"/api/v1/jobs/{job_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def finished(self, job_id: str, timeout: float = 30) -> dict[str, Any]:
        """The job once it has succeeded or failed for good."""
        found: dict[str, Any] = {}

        async def done() -> bool:
            found.update(await self.job(job_id))
            return found["state"] in ("succeeded", "failed")

        await wait_for(done, timeout)
        return found

    async def file(self, file_id: str) -> dict[str, Any]:
        response = await self.http.get(f"/api/v1/files/{file_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())


@asynccontextmanager
async def running_app(
    settings: Settings, *, worker: bool = True, role: str = "admin"
) -> AsyncIterator[Running]:
    """The real app, with its in-process worker unless ``worker=False``, and a client
    signed in as a new account of ``role`` (admin by default: the jobs list and retry are
    admin routes)."""
    app = create_app(settings, worker=worker)
    async with (
        app.lifespan(),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://mstack.test"
        ) as http,
    ):
        username = f"media-{role}"
        async with app.state.db.session() as session:
            from sqlmodel import select

            from mcore.auth.models import User

            existing = (await session.exec(select(User).where(User.username == username))).first()
            user_id = existing.id if existing is not None else None
        if user_id is None:
            user_id = (await create_account(app, role=role, username=username)).id
        reply = await http.post(
            "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
        )
        assert reply.status_code == 200, reply.text
        http.headers["Authorization"] = f"Bearer {reply.json()['access_token']}"
        yield Running(app, http, str(user_id))
