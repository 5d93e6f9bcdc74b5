"""Untrusted decoding in child processes: a time limit (then a kill), a memory limit.

Python decoders (libvips, PDFium) run in children forked from a fork server that has
already imported them (``mcore.media._zygote``), so a child starts in milliseconds.
External tools (ffmpeg, ffprobe, LibreOffice) run as asyncio subprocesses through
:func:`run_tool`, which applies the same limits. A child that crashes, hangs or balloons
fails its job with a message and takes nothing else down.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcore.media.errors import ProcessingError

log = logging.getLogger("mstack.sandbox")


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


def _seconds(value: float) -> str:
    return f"{value:g} s"


@dataclass
class _Pending:
    started: asyncio.Future[int]
    exited: asyncio.Future[int]


class Sandbox:
    """A fork server for decoding tasks, started on first use and restarted if it dies."""

    def __init__(self, *, memory_limit: int, time_limit: float) -> None:
        self.memory_limit = memory_limit
        self.time_limit = time_limit
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[int, _Pending] = {}
        self._ids = itertools.count(1)
        self._lock = asyncio.Lock()
        self.running: set[int] = set()  # pids of live children (tests kill one mid-task)

    async def _ensure(self) -> asyncio.subprocess.Process:
        async with self._lock:
            if self._proc is None or self._proc.returncode is not None:
                self._proc = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "mcore.media._zygote",
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    env={**os.environ, "VIPS_BLOCK_UNTRUSTED": "1", "MALLOC_ARENA_MAX": "2"},
                )
                self._reader = asyncio.create_task(self._read(self._proc))
            return self._proc

    async def _read(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        try:
            async for line in proc.stdout:
                message = json.loads(line)
                pending = self._pending.get(message["id"])
                if pending is None:
                    continue
                if "pid" in message and not pending.started.done():
                    pending.started.set_result(message["pid"])
                elif "exit" in message and not pending.exited.done():
                    pending.exited.set_result(message["exit"])
        finally:
            await proc.wait()
            for pending in self._pending.values():
                for fut in (pending.started, pending.exited):
                    if not fut.done():
                        fut.set_exception(
                            ProcessingError("the decoding sandbox stopped", permanent=False)
                        )

    async def run(
        self,
        task: str,
        args: dict[str, Any],
        *,
        result_path: Path,
        time_limit: float | None = None,
        memory_limit: int | None = None,
        stats: dict[str, Any] | None = None,
    ) -> Any:
        """Run ``task`` in a fresh child; its return value, or ``ProcessingError``.
        ``time_limit`` and ``memory_limit`` replace the sandbox's own for this task.

        ``stats``, if given, receives the child's peak resident memory (bytes) and CPU time.
        """
        limit = time_limit if time_limit is not None else self.time_limit
        proc = await self._ensure()
        assert proc.stdin is not None
        request_id = next(self._ids)
        loop = asyncio.get_running_loop()
        pending = _Pending(loop.create_future(), loop.create_future())
        self._pending[request_id] = pending
        request = {
            "id": request_id,
            "task": task,
            "args": args,
            "result": str(result_path),
            "memory": memory_limit if memory_limit is not None else self.memory_limit,
            "cpu": int(limit) + 1,
        }
        pid = None
        try:
            proc.stdin.write(json.dumps(request).encode() + b"\n")
            await proc.stdin.drain()
            pid = await pending.started
            self.running.add(pid)
            try:
                code = await asyncio.wait_for(asyncio.shield(pending.exited), limit)
            except TimeoutError:
                _kill_group(pid)
                await pending.exited
                raise ProcessingError(
                    f"decoding took longer than the limit of {_seconds(limit)} and was stopped",
                    permanent=False,
                ) from None
        except BaseException:
            if pid is not None and not pending.exited.done():
                _kill_group(pid)
            raise
        finally:
            if pid is not None:
                self.running.discard(pid)
            self._pending.pop(request_id, None)
        return _result(code, result_path, stats)

    async def close(self) -> None:
        """Stop the fork server; it kills any child still running."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except TimeoutError:
            proc.kill()
            await proc.wait()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader


def _kill_group(pid: int) -> None:
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(pid, signal.SIGKILL)
            return


def _result(code: int, result_path: Path, stats: dict[str, Any] | None = None) -> Any:
    if code < 0:
        raise ProcessingError(
            f"the decoder was killed by {_signal_name(code)}; the file may be malformed or"
            " need more memory than allowed",
            permanent=False,
        )
    try:
        payload = json.loads(result_path.read_text())
    except (OSError, ValueError):
        raise ProcessingError(
            f"the decoder stopped (exit status {code}) without a result", permanent=False
        ) from None
    finally:
        result_path.unlink(missing_ok=True)
    if stats is not None:
        stats.update(payload.get("stats") or {})
    if "error" in payload:
        raise ProcessingError(payload["error"], permanent=bool(payload.get("permanent", True)))
    return payload["ok"]


# -- external tools ---------------------------------------------------------------------

# Runs between fork and exec of a tool: limits, and death with the worker (PR_SET_PDEATHSIG
# survives exec), so a killed worker leaves no ffmpeg behind.
_LIMITER = (
    "import ctypes,os,resource,signal,sys;"
    "ctypes.CDLL(None).prctl(1,signal.SIGKILL);"
    "os.getppid()==int(sys.argv[2]) or os._exit(70);"
    "m=int(sys.argv[1]);resource.setrlimit(resource.RLIMIT_AS,(m,m));"
    "resource.setrlimit(resource.RLIMIT_CORE,(0,0));"
    "os.execv(sys.argv[3],sys.argv[3:])"
)


def limited(argv: list[str], memory_limit: int) -> list[str]:
    """``argv`` wrapped so the program starts with an address-space limit (race-free)."""
    return [sys.executable, "-I", "-S", "-c", _LIMITER, str(memory_limit), str(os.getpid()), *argv]


@dataclass
class ToolResult:
    returncode: int
    stdout: bytes
    stderr: bytes


async def run_tool(
    argv: list[str],
    *,
    time_limit: float,
    memory_limit: int,
    name: str,
    on_line: Callable[[bytes], Awaitable[None] | None] | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> ToolResult:
    """Run an external program with limits; ``on_line`` sees each stdout line as it comes
    (ffmpeg's ``-progress pipe:1``). Killed with its process group at the time limit."""
    proc = await asyncio.create_subprocess_exec(
        *limited(argv, memory_limit),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
        cwd=cwd,
        env=env,
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    stdout = bytearray()

    async def read_stdout() -> None:
        assert proc.stdout is not None
        async for line in proc.stdout:
            if on_line is None:
                stdout.extend(line)
                if len(stdout) > 64 * 1024 * 1024:
                    raise ProcessingError(f"{name} printed more than 64 MiB")
            else:
                outcome = on_line(line)
                if outcome is not None:
                    await outcome

    async def read_stderr() -> bytes:
        assert proc.stderr is not None
        kept = bytearray()
        while chunk := await proc.stderr.read(65536):
            if len(kept) < 256 * 1024:
                kept.extend(chunk)  # only the start is kept; the rest is drained
        return bytes(kept)

    readers = asyncio.gather(read_stdout(), read_stderr(), proc.wait())
    try:
        _, err, code = await asyncio.wait_for(readers, time_limit)
    except TimeoutError:
        _kill_group(proc.pid)
        await proc.wait()
        raise ProcessingError(
            f"{name} took longer than the limit of {_seconds(time_limit)} and was stopped",
            permanent=False,
        ) from None
    except BaseException:
        _kill_group(proc.pid)
        with contextlib.suppress(Exception):
            await proc.wait()
        raise
    return ToolResult(returncode=code, stdout=bytes(stdout), stderr=err)
