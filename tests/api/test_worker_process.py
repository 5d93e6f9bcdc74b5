"""The worker as a process of its own: ``mstack worker``, restarts, ``mstack ingest``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from mcore.db import Database
from mcore.files.models import File
from mcore.jobs.models import Job
from mcore.jobs.worker import Worker
from mcore.settings import Settings
from tests import media
from tests.apphelpers import fast, running_app
from tests.conftest import temp_files, wait_for

pytestmark = pytest.mark.anyio


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MSTACK_")}
    env["MSTACK_DATA_DIR"] = str(settings.data_dir)
    env["MSTACK_DATABASE_URL"] = settings.db_url
    env["MSTACK_ALLOWED_CONTENT_TYPES"] = '["*/*"]'
    env.update(extra)
    return env


def _mstack(*args: str) -> list[str]:
    return [sys.executable, "-c", "from mstack_client._launch import main; main()", *args]


async def _job(db: Database, job_id: str) -> Job:
    async with db.session() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        session.expunge(job)
        return job


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if text.encode() in cmdline and stat.rsplit(")", 1)[1].split()[0] != "Z":
                found.append(int(entry.name))
    return found


async def test_a_job_interrupted_by_a_dead_worker_resumes_after_restart(
    settings: Settings, db: Database, tmp_path: Path, frozen_clock: Any
) -> None:
    tuned = fast(settings, video_web_rendition=True)
    # long enough that the transcode is still running when the worker is killed
    clip = media.make_video(tmp_path / "clip.mp4", seconds=20, size="1280x720", tools=tmp_path)
    async with running_app(tuned, worker=False) as app:
        record = await app.upload(clip.read_bytes(), "clip.mp4")
    job_id = record["job_id"]
    worker = subprocess.Popen(
        _mstack("worker"),
        env=_env(settings, MSTACK_MEDIA__VIDEO_WEB_RENDITION="true"),
        stderr=subprocess.PIPE,
    )
    try:

        async def transcoding() -> bool:
            job = await _job(db, job_id)
            return job.state == "running" and 30 < job.progress < 60

        await wait_for(transcoding, timeout=60)
        assert _processes_mentioning(job_id)  # ffmpeg is at work on the job's folder
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    interrupted = await _job(db, job_id)
    assert interrupted.state == "running"  # as the dead worker left it
    assert interrupted.attempts == 1
    await wait_for(lambda: not _processes_mentioning(job_id))  # no orphaned ffmpeg

    frozen_clock.offset += tuned.jobs.lease.total_seconds() + 1  # the dead lease runs out
    restarted = Worker(tuned)
    await restarted.start()
    try:

        async def done() -> bool:
            return (await _job(db, job_id)).state == "succeeded"

        await wait_for(done, timeout=60)
    finally:
        await restarted.stop()
    resumed = await _job(db, job_id)
    assert resumed.attempts == 2
    assert "rendition-720" in resumed.result["derivatives"]
    async with db.session() as session:
        file = await session.get(File, record["id"])
        assert file is not None
        assert file.status == "ready"
    assert temp_files(settings) == []


async def test_a_stopping_server_hands_running_jobs_back(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    tuned = fast(settings, video_web_rendition=True)
    clip = media.make_video(tmp_path / "clip.mp4", seconds=8, size="1280x720", tools=tmp_path)
    async with running_app(tuned) as app:
        record = await app.upload(clip.read_bytes(), "clip.mp4")

        async def transcoding() -> bool:
            return (await app.job(record["job_id"]))["progress"] > 30

        await wait_for(transcoding, timeout=60)
    handed_back = await _job(db, record["job_id"])
    assert handed_back.state == "queued"
    assert handed_back.attempts == 0
    assert handed_back.lease_owner is None
    assert not _processes_mentioning(record["job_id"])
    assert temp_files(settings) == []
    async with running_app(tuned) as app:  # the next start picks it up at once
        job = await app.finished(record["job_id"], timeout=60)
        assert job["state"] == "succeeded"
        assert job["attempts"] == 1


def test_ingest_enqueues_and_worker_drain_processes(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(media.jpeg(300, 200))
    (folder / "b.pdf").write_bytes(media.pdf("hello"))
    (folder / "notes.txt").write_text("nothing to process\n")
    env = _env(settings)
    ingested = subprocess.run(
        _mstack("ingest", "--json", str(folder)),
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    import json

    records = {r["filename"]: r for r in json.loads(ingested.stdout)}
    assert records["a.jpg"]["status"] == "queued"
    assert records["b.pdf"]["status"] == "queued"
    assert records["notes.txt"]["status"] == "stored"
    assert records["notes.txt"]["job_id"] is None
    started = time.monotonic()
    drained = subprocess.run(
        _mstack("worker", "--drain"), env=env, capture_output=True, text=True, timeout=60
    )
    assert drained.returncode == 0, drained.stderr
    assert "2 jobs finished" in drained.stderr
    assert time.monotonic() - started < 60
    shown = subprocess.run(
        _mstack("reprocess", records["a.jpg"]["id"]), env=env, capture_output=True, text=True
    )
    assert shown.returncode == 0, shown.stderr
    assert "1 jobs queued on the bulk lane" in shown.stdout
    unknown = subprocess.run(
        _mstack("reprocess", "01m8632vvw85bf92ebzhdaefd9"), env=env, capture_output=True, text=True
    )
    assert unknown.returncode == 1
    assert "no file with id" in unknown.stderr
