"""Broken and hostile uploads: each job fails or degrades with a clear message, the server
keeps serving, no worker is left stuck and no temp file remains."""

from __future__ import annotations

import asyncio
import os
import random
import signal
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import pyvips
from sqlmodel import col, select

from mcore.db import Database
from mcore.events import Event
from mcore.settings import Settings
from tests import media
from tests.apphelpers import Running, fast, running_app
from tests.conftest import temp_files, wait_for

# Processing, not storage, is under test here: the database paths of the worker run on
# both backends in test_processing, test_worker_process and tests/mcore/jobs.
pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("backend", ["sqlite"])]


def _truncated_jpeg(_: Path) -> bytes:
    data = media.jpeg(800, 600)
    return data[: len(data) // 2]


def _not_really_mp4(_: Path) -> bytes:
    return b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + os.urandom(4000)


def _audio_only(tmp: Path) -> bytes:
    return media.make_video(tmp / "a.mp4", video=False, seconds=1, tools=tmp).read_bytes()


CASES: dict[str, tuple[str, Callable[[Path], bytes], str, str, str]] = {
    # name: (filename, make bytes, job state, file status, words in the message)
    "truncated jpeg": ("cut.jpg", _truncated_jpeg, "succeeded", "ready", "damaged or cut short"),
    "png bomb": (
        "bomb.png",
        lambda _: media.png_bomb(),
        "failed",
        "failed",
        "100000x100000 pixels",
    ),
    "gif of 3000 frames": (
        "many.gif",
        lambda _: media.gif_frames(3000),
        "failed",
        "failed",
        "3000 frames",
    ),
    "random bytes that look like mp4": (
        "clip.mp4",
        _not_really_mp4,
        "failed",
        "failed",
        "ffprobe can read",
    ),
    "video with no video stream": (
        "sound.mp4",
        _audio_only,
        "succeeded",
        "ready",
        "no video stream",
    ),
    "encrypted pdf": (
        "locked.pdf",
        lambda _: media.pdf_encrypted(),
        "failed",
        "failed",
        "protected by a password",
    ),
    "zero-page pdf": (
        "empty.pdf",
        lambda _: media.pdf_zero_pages(),
        "failed",
        "failed",
        "no pages",
    ),
}


async def _settled(app: Running, settings: Settings) -> None:
    """The server still answers, no job is left running and no temp file remains."""
    assert (await app.http.get("/health")).json() == {"status": "ok"}
    await wait_for(lambda: not app.worker.running)
    assert temp_files(settings) == []


@pytest.mark.parametrize("bad", list(CASES))
async def test_bad_input_fails_or_degrades_clearly(
    settings: Settings, tmp_path: Path, bad: str
) -> None:
    filename, make, state, status, words = CASES[bad]
    data = make(tmp_path)
    async with running_app(fast(settings, image_max_frames=1000)) as app:
        record = await app.upload(data, filename)
        job = await app.finished(record["job_id"])
        file = await app.file(record["id"])
        assert (job["state"], file["status"]) == (state, status), job
        if state == "failed":
            assert words in job["error"]
            assert job["attempts"] == 1  # bad input: retrying cannot help
        else:
            assert any(words in w for w in job["result"]["warnings"]), job
            assert any(words in w for w in file["processing"]["warnings"])
        content = await app.http.get(f"/api/v1/files/{record['id']}/content")
        assert content.content == data  # the original stays stored and downloadable
        await _settled(app, settings)


@pytest.mark.parametrize(
    ("filename", "data", "content_type"),
    [
        ("empty.jpg", b"", "application/x-empty"),
        # fixed random bytes: fresh ones begin like an MP3 frame about once in 2,000 runs
        ("random.mp4", random.Random(2026).randbytes(5000), "application/octet-stream"),
    ],
)
async def test_unknown_bytes_are_stored_without_processing(
    settings: Settings, filename: str, data: bytes, content_type: str
) -> None:
    """A name or a declared type is never trusted: bytes nobody can recognise get no job."""
    async with running_app(fast(settings)) as app:
        record = await app.upload(data, filename)
        assert record["content_type"] == content_type
        assert record["status"] == "stored"
        assert record["job_id"] is None
        await _settled(app, settings)


def _big_png(edge: int = 8000) -> bytes:
    return bytes(
        pyvips.Image.black(edge, edge, bands=3).cast("uchar").pngsave_buffer(compression=1)
    )


async def test_a_decoder_killed_mid_job_is_retried(settings: Settings, db: Database) -> None:
    tuned = fast(settings)
    tuned.jobs.max_attempts = 2
    async with running_app(tuned) as app:
        sandbox = app.app.state.sandbox
        record = await app.upload(_big_png(), "big.png")
        await wait_for(lambda: bool(sandbox.running), timeout=20)
        (pid,) = sandbox.running
        os.kill(pid, signal.SIGKILL)
        job = await app.finished(record["job_id"])
        assert job["state"] == "succeeded"
        assert job["attempts"] == 2
        assert (await app.file(record["id"]))["status"] == "ready"
        await _settled(app, settings)
    async with db.session() as session:
        rows = (await session.exec(select(Event).where(col(Event.type) == "job.progress"))).all()
        errors = [r.payload.get("error") for r in rows if r.payload.get("error")]
    assert any("killed by SIGKILL" in e for e in errors)


async def test_a_hanging_decoder_is_stopped_at_the_time_limit(settings: Settings) -> None:
    tuned = fast(settings)
    tuned.jobs.max_attempts = 2
    tuned.jobs.time_limit = timedelta(milliseconds=50)
    async with running_app(tuned) as app:
        record = await app.upload(_big_png(), "slow.png")
        job = await app.finished(record["job_id"])
        assert job["state"] == "failed"
        assert job["attempts"] == 2  # a time-out may be passing: it was tried again
        assert "longer than the limit of 0.05 s" in job["error"]
        small = await app.upload(media.jpeg(64, 64), "small.jpg")
        # the worker goes on with other jobs
        assert (await app.finished(small["job_id"]))["state"] in ("succeeded", "failed")
        await _settled(app, settings)


async def test_many_bad_uploads_at_once_leave_the_server_serving(settings: Settings) -> None:
    async with running_app(fast(settings)) as app:
        uploads = [
            ("bomb.png", media.png_bomb()),
            ("cut.jpg", _truncated_jpeg(Path())),
            ("x.mp4", _not_really_mp4(Path())),
            ("locked.pdf", media.pdf_encrypted()),
            ("fine.jpg", media.jpeg(100, 80)),
        ]
        records = await asyncio.gather(*(app.upload(data, name) for name, data in uploads))
        states: dict[str, Any] = {}
        for (name, _), record in zip(uploads, records, strict=True):
            states[name] = (await app.finished(record["job_id"]))["state"]
        assert states == {
            "bomb.png": "failed",
            "cut.jpg": "succeeded",
            "x.mp4": "failed",
            "locked.pdf": "failed",
            "fine.jpg": "succeeded",
        }
        await _settled(app, settings)


async def test_limits_per_profile_fail_with_the_original_kept(
    settings: Settings, tmp_path: Path
) -> None:
    clip = media.make_video(tmp_path / "clip.mp4", seconds=2, tools=tmp_path).read_bytes()
    tuned = fast(
        settings, image_max_size=1000, video_max_duration=timedelta(seconds=1), document_max_pages=2
    )
    cases = [
        ("big.jpg", media.jpeg(400, 300), "image files are processed up to 1000 bytes"),
        ("long.mp4", clip, "the video lasts"),
        ("thick.pdf", media.pdf("page", pages=3), "at most 2"),
    ]
    async with running_app(tuned) as app:
        for name, data, words in cases:
            record = await app.upload(data, name)
            job = await app.finished(record["job_id"])
            assert job["state"] == "failed"
            assert words in job["error"], job["error"]
            assert "The original is kept" in job["error"]
            content = await app.http.get(f"/api/v1/files/{record['id']}/content")
            assert content.content == data
        await _settled(app, settings)
