"""The sandbox: children with a time limit, a memory limit, and kills that hurt nobody else."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pyvips

from mcore.media.errors import ProcessingError
from mcore.media.sandbox import Sandbox, run_tool
from tests import media
from tests.conftest import wait_for

MiB = 1024 * 1024


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    box = Sandbox(memory_limit=256 * MiB, time_limit=30)
    yield box
    await box.close()


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting to be reaped has stopped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _args(src: Path, out: Path) -> dict[str, object]:
    return {
        "src": str(src),
        "out_dir": str(out),
        "sizes": [256, 1024],
        "quality": 80,
        "max_pixels": 10**9,
        "max_frames": 100,
    }


def _big_png(path: Path, edge: int = 8000, *, interlace: bool = False) -> Path:
    image = pyvips.Image.black(edge, edge, bands=3).cast("uchar")
    image.pngsave(str(path), compression=1, interlace=interlace)
    return path


async def _ok(sandbox: Sandbox, tmp_path: Path) -> None:
    src = tmp_path / "ok.jpg"
    src.write_bytes(media.jpeg(300, 200))
    made = await sandbox.run("image.previews", _args(src, tmp_path), result_path=tmp_path / "r")
    assert {o["name"] for o in made["outputs"]} == {"preview-256", "preview-1024"}


async def test_runs_a_task_and_reports_bad_input(sandbox: Sandbox, tmp_path: Path) -> None:
    await _ok(sandbox, tmp_path)
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image at all")
    with pytest.raises(ProcessingError, match="not an image") as caught:
        await sandbox.run("image.previews", _args(bad, tmp_path), result_path=tmp_path / "r")
    assert caught.value.permanent
    assert not (tmp_path / "r").exists()
    assert sandbox.running == set()


async def test_time_limit_kills_the_child(sandbox: Sandbox, tmp_path: Path) -> None:
    src = _big_png(tmp_path / "big.png")
    with pytest.raises(ProcessingError, match=r"longer than the limit of 0\.05 s") as caught:
        await sandbox.run(
            "image.previews", _args(src, tmp_path), result_path=tmp_path / "r", time_limit=0.05
        )
    assert not caught.value.permanent
    assert sandbox.running == set()
    await _ok(sandbox, tmp_path)  # the fork server is unharmed


async def test_memory_limit_stops_a_balloon(tmp_path: Path) -> None:
    # an interlaced PNG must be decoded whole: 10000x10000x3 bytes is more than 256 MiB
    # allows (at 128 MiB even a small image may find no room for libvips' thread stacks)
    src = _big_png(tmp_path / "interlaced.png", 10000, interlace=True)
    box = Sandbox(memory_limit=256 * MiB, time_limit=30)
    try:
        with pytest.raises(ProcessingError, match="more memory than the sandbox allows"):
            await box.run("image.previews", _args(src, tmp_path), result_path=tmp_path / "r")
        await _ok(box, tmp_path)
    finally:
        await box.close()


async def test_a_child_killed_mid_task_fails_only_its_task(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    src = _big_png(tmp_path / "big.png")
    task = asyncio.create_task(
        sandbox.run("image.previews", _args(src, tmp_path), result_path=tmp_path / "r")
    )
    for _ in range(500):
        if sandbox.running:
            break
        await asyncio.sleep(0.005)
    (pid,) = sandbox.running
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(ProcessingError, match="killed by SIGKILL") as caught:
        await task
    assert not caught.value.permanent
    await _ok(sandbox, tmp_path)


async def test_the_fork_server_is_restarted_when_it_dies(sandbox: Sandbox, tmp_path: Path) -> None:
    await _ok(sandbox, tmp_path)
    proc = sandbox._proc
    assert proc is not None
    proc.kill()
    await proc.wait()
    await _ok(sandbox, tmp_path)
    assert sandbox._proc is not proc


async def test_close_kills_running_children(tmp_path: Path) -> None:
    box = Sandbox(memory_limit=256 * MiB, time_limit=30)
    src = _big_png(tmp_path / "big.png")
    task = asyncio.create_task(
        box.run("image.previews", _args(src, tmp_path), result_path=tmp_path / "r")
    )
    for _ in range(500):
        if box.running:
            break
        await asyncio.sleep(0.005)
    (pid,) = box.running
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await box.close()
    await wait_for(lambda: not _alive(pid))


async def test_tool_time_limit_and_exit_status(tmp_path: Path) -> None:
    done = await run_tool(
        ["/bin/sh", "-c", "echo hi; exit 3"], time_limit=5, memory_limit=256 * MiB, name="sh"
    )
    assert done.returncode == 3
    assert done.stdout == b"hi\n"
    marker = tmp_path / "still-running"
    with pytest.raises(ProcessingError, match=r"sh took longer than the limit of 0\.2 s"):
        await run_tool(
            ["/bin/sh", "-c", f"sleep 0.6; touch {marker}"],
            time_limit=0.2,
            memory_limit=256 * MiB,
            name="sh",
        )
    await asyncio.sleep(0.8)
    assert not marker.exists()  # the whole process group was killed


async def test_tool_memory_limit(tmp_path: Path) -> None:
    script = "x = bytearray(400 * 1024 * 1024)"
    result = await run_tool(
        ["/usr/bin/env", "python3", "-c", script],
        time_limit=10,
        memory_limit=256 * MiB,
        name="python",
    )
    assert result.returncode != 0
    assert b"MemoryError" in result.stderr


async def test_untrusted_libvips_loaders_are_blocked(sandbox: Sandbox, tmp_path: Path) -> None:
    """vipsload is one of libvips's untrusted loaders: in the sandbox it does not even
    recognise its own format (unblocked, it would load it and the allow-list would refuse)."""
    src = tmp_path / "image.v"
    pyvips.Image.black(8, 8).vipssave(str(src))
    with pytest.raises(ProcessingError) as caught:
        await sandbox.run("image.previews", _args(src, tmp_path), result_path=tmp_path / "r")
    assert "not a known file format" in caught.value.message
    assert "vipsload" not in caught.value.message
