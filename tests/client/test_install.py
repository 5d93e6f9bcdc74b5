"""The client installs alone, into a fresh virtual environment, and works without the server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mcore.cid import file_cid
from tests.client.conftest import USERNAME
from tests.conftest import PASSWORD, LiveServer

ROOT = Path(__file__).resolve().parents[2]
SERVER_ONLY = [
    "mcore",
    "api",
    "litestar",
    "sqlalchemy",
    "sqlmodel",
    "pyvips",
    "aiosqlite",
    "asyncpg",
]


@pytest.mark.slow
def test_the_client_installs_and_works_without_the_server(
    live_server: LiveServer, tmp_path: Path
) -> None:
    # A copy of the sources, so the build leaves nothing in the worktree.
    source = tmp_path / "client-src"
    shutil.copytree(
        ROOT / "client", source, ignore=shutil.ignore_patterns("*.egg-info", "build", "__pycache__")
    )
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    # A fresh environment; this test's pip installs into it (ensurepip alone takes ~10 s).
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", python, "install", "--quiet",
         "-c", ROOT / "constraints.txt", source],
        check=True, env=env, cwd=tmp_path,
    )  # fmt: skip

    def run(*args: str | Path, input: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(a) for a in args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            input=input,
        )

    probe = run(
        python,
        "-c",
        "import importlib.util, json, sys, mstack_client;"
        f"print(json.dumps([m for m in {SERVER_ONLY!r} if importlib.util.find_spec(m)]))",
    )
    assert probe.returncode == 0, probe.stderr
    assert json.loads(probe.stdout) == []

    mstack = venv / "bin" / "mstack"
    help_text = run(mstack, "--help")
    assert help_text.returncode == 0, help_text.stderr
    assert "upload" in help_text.stdout
    assert "artists" in help_text.stdout  # generated from the specs, shipped in the client
    assert "Server commands" not in help_text.stdout  # nothing of the server is installed

    signed_in = run(
        mstack, "--server", live_server.url, "login", "--username", USERNAME, "--password-stdin",
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert signed_in.returncode == 0, signed_in.stderr
    (tmp_path / "photo.txt").write_bytes(b"made by the client alone")
    uploaded = run(mstack, "--server", live_server.url, "upload", "--json", "photo.txt")
    assert uploaded.returncode == 0, uploaded.stderr
    (record,) = json.loads(uploaded.stdout)
    assert record["file"]["cid"] == file_cid(b"made by the client alone")
    fetched = run(
        mstack, "--server", live_server.url, "download", record["file"]["id"], "-o", "copy.txt"
    )
    assert fetched.returncode == 0, fetched.stderr
    assert (tmp_path / "copy.txt").read_bytes() == b"made by the client alone"
    made = run(mstack, "--server", live_server.url, "artists", "create", "--json",
               "--name-full", "Made alone")  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["name"]["full"] == "Made alone"
