"""Jobs and live events from the SDK and the CLI, against a real server whose in-process
worker makes previews: waiting for a job, following events, replay after a reconnect."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcore.settings import Settings
from mstack_client import AsyncClient, Client, JobFailed
from tests import media
from tests.apphelpers import fast
from tests.client.conftest import USERNAME, Cli, signed_in_cli
from tests.conftest import PASSWORD, LiveServer


@pytest.fixture
def working_server(settings: Settings) -> Iterator[LiveServer]:
    """A live server with its embedded worker on (the tests' default has it off)."""
    quick = fast(settings)
    jobs = quick.jobs.model_copy(update={"embedded_worker": True})
    server = LiveServer(quick.model_copy(update={"jobs": jobs}))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sdk_w(working_server: LiveServer) -> Iterator[Client]:
    with Client(working_server.url) as client:
        client.login(username=USERNAME, password=PASSWORD)
        yield client


def upload(client: Client, data: bytes, name: str):  # type: ignore[no-untyped-def]
    return client.upload(io.BytesIO(data), filename=name)


def test_wait_for_a_job_with_progress(sdk_w: Client) -> None:
    record = upload(sdk_w, media.jpeg(800, 600), "a.jpg")
    assert record.job_id
    seen: list[int] = []
    job = sdk_w.wait_for_job(record.job_id, timeout=60, progress=lambda j: seen.append(j.progress))
    assert job.state == "succeeded"
    assert job.progress == 100
    assert seen[-1] == 100
    assert sdk_w.get_file(record.id).status == "ready"


def test_a_failed_job_raises_with_its_reason(sdk_w: Client) -> None:
    record = upload(sdk_w, media.png_bomb(), "bomb.png")
    with pytest.raises(JobFailed) as failure:
        sdk_w.wait_for_job(record.job_id, timeout=60)
    assert failure.value.job.state == "failed"
    assert "pixel" in (failure.value.job.error or "")
    job = sdk_w.wait_for_job(record.job_id, timeout=5, raise_on_failure=False)
    assert job.state == "failed"


def test_events_follow_then_replay_after_reconnect(sdk_w: Client) -> None:
    record = upload(sdk_w, media.jpeg(640, 480), "b.jpg")
    kinds: list[str] = []
    last = None
    for event in sdk_w.events(after=0, reconnect=False):
        if event.data.get("file_id") != record.id:
            continue
        kinds.append(event.type)
        last = event.seq
        if event.type in ("file.ready", "job.failed"):
            break
    assert kinds[0] == "file.stored"
    assert kinds[-1] == "file.ready"
    assert last is not None
    # a second file while nobody listens, then reconnect from the last sequence seen
    second = upload(sdk_w, media.jpeg(320, 240), "c.jpg")
    sdk_w.wait_for_job(second.job_id, timeout=60)
    replayed = []
    for event in sdk_w.events(after=last, reconnect=False):
        replayed.append(event)
        if event.type == "file.ready" and event.data.get("file_id") == second.id:
            break
    assert all(e.seq is not None and e.seq > last for e in replayed)
    assert {e.data.get("file_id") for e in replayed} == {second.id}  # nothing seen twice


def test_async_client_events_and_wait(working_server: LiveServer) -> None:
    async def run() -> list[str]:
        async with AsyncClient(working_server.url) as client:
            await client.login(username=USERNAME, password=PASSWORD)
            record = await client.upload(io.BytesIO(media.jpeg(300, 200)), filename="d.jpg")
            kinds = []

            async def follow() -> None:
                async for event in client.events(after=0, reconnect=False):
                    if event.data.get("file_id") == record.id:
                        kinds.append(event.type)
                        if event.type == "file.ready":
                            return

            await asyncio.wait_for(follow(), 60)
            job = await client.wait_for_job(record.job_id, timeout=10)
            assert job.state == "succeeded"
            return kinds

    kinds = asyncio.run(run())
    assert kinds[0] == "file.stored"
    assert kinds[-1] == "file.ready"


def test_cli_jobs_show_and_watch(
    working_server: LiveServer, config_home: Path, tmp_path: Path
) -> None:
    run: Cli = signed_in_cli(working_server, config_home)
    good = tmp_path / "good.jpg"
    good.write_bytes(media.jpeg(400, 300))
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(media.png_bomb())
    uploaded = run("upload", "--json", str(good), str(bomb))
    assert uploaded.exit_code == 0, uploaded.output
    records = {Path(r["path"]).name: r["file"] for r in json.loads(uploaded.stdout)}
    ok = run("jobs", "watch", records["good.jpg"]["job_id"], "--timeout", "60")
    assert ok.exit_code == 0, ok.output
    shown = run("jobs", "show", "--json", records["good.jpg"]["job_id"])
    assert json.loads(shown.stdout)["state"] == "succeeded"
    failed = run("jobs", "watch", records["bomb.png"]["job_id"], "--timeout", "60")
    assert failed.exit_code == 1
    assert "pixel" in failed.output
    missing = run("jobs", "show", "01m8632vvw85bf92ebzhdaefd9")
    assert missing.exit_code == 1
    assert "Traceback" not in missing.output


def test_cli_watch_without_job_ids_stops_at_the_timeout(
    live_server: LiveServer, config_home: Path
) -> None:
    """No event arrives; --timeout ends the watch all the same (it once ran for minutes)."""
    signed_in_cli(live_server, config_home)  # stores the session in config_home
    env = {k: v for k, v in os.environ.items() if not k.startswith("MSTACK_")}
    env |= {"XDG_CONFIG_HOME": str(config_home), "MSTACK_URL": live_server.url}
    script = Path(sys.executable).parent / "mstack"
    watch = subprocess.run(
        [script, "jobs", "watch", "--timeout", "0.5"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,  # without the fix it waits for events until killed here
    )
    assert watch.returncode == 0, watch.stderr
    assert watch.stdout == ""
    assert "Traceback" not in watch.stderr
