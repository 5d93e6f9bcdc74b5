"""`mstack` as a process of its own, started and awaited as an operator's shell would."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import IO, Any

import httpx

MSTACK = "from mstack_client._launch import main; main()"  # the `mstack` script


def mstack_command(*args: str) -> list[str]:
    """The argv of ``mstack ARGS`` under this interpreter."""
    return [sys.executable, "-c", MSTACK, *args]


def spawn(
    args: Sequence[str],
    env: dict[str, str],
    output: IO[bytes] | int,
    *,
    stdout: IO[bytes] | int | None = None,
    **popen: Any,
) -> subprocess.Popen[bytes]:
    """Start ``mstack ARGS`` with its stderr (and its stdout, unless given) to ``output``."""
    return subprocess.Popen(
        mstack_command(*args),
        env=env,
        stdout=output if stdout is None else stdout,
        stderr=output,
        **popen,
    )


def answers(url: str, path: str = "/health") -> bool:
    """Whether the server at ``url`` answers ``path`` with 200."""
    try:
        return httpx.get(f"{url}{path}", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def wait_until_up(
    url: str,
    proc: subprocess.Popen[bytes],
    *,
    path: str = "/health",
    timeout: float = 60,
    said: Callable[[], str] = lambda: "",
    also: Callable[[], bool] = lambda: True,
) -> None:
    """Wait until ``url`` answers ``path`` (and ``also`` holds); fail with what the process
    ``said`` if it exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while not (answers(url, path) and also()):
        assert proc.poll() is None, f"mstack exited ({proc.returncode}): {said()}"
        assert time.monotonic() < deadline, f"mstack did not come up in {timeout:g} s: {said()}"
        time.sleep(0.1)
