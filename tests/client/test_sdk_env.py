"""``Client()`` and ``AsyncClient()`` given nothing use what ``mstack`` uses (MSTACK_URL,
MSTACK_API_KEY, the stored login); ``wait_for_job`` takes a file that has no job; the
package's names are checked by mypy in a user's script."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import mstack_client
from mstack_client import AsyncClient, Client, Unauthorized
from mstack_client._generated.sdk import mart
from tests import media
from tests.client.conftest import USERNAME, Cli
from tests.client.test_auth import make_key
from tests.conftest import LiveServer


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, config_home: Path) -> Path:
    """No MSTACK_* variables, and a config folder of the test's own."""
    monkeypatch.delenv("MSTACK_URL", raising=False)
    monkeypatch.delenv("MSTACK_API_KEY", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    return config_home


def test_client_reads_mstack_url_and_api_key(
    live_server: LiveServer, clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = make_key(live_server)["key"]
    monkeypatch.setenv("MSTACK_URL", live_server.url)
    monkeypatch.setenv("MSTACK_API_KEY", key)
    with Client() as client:
        assert client.base_url == live_server.url
        assert client.me().id == live_server.user_id

    async def use() -> str:
        async with AsyncClient() as client:
            return (await client.me()).id

    assert asyncio.run(use()) == live_server.user_id
    with Client(use_env=False) as client:
        assert client.base_url == "http://127.0.0.1:8000"
        assert not client.signed_in


def test_client_uses_the_clis_stored_login(
    cli: Cli, live_server: LiveServer, clean_env: Path
) -> None:
    # `cli` signed in with `mstack login`, which made this server the default
    with Client() as client:
        assert client.base_url == live_server.url
        assert client.me().id == live_server.user_id
        client.refresh()  # a refresh is kept where the CLI reads it (tokens are single-use)
    assert cli("whoami").stdout.startswith(USERNAME)

    async def use() -> str:
        async with AsyncClient(live_server.url) as client:
            return (await client.me()).id

    assert asyncio.run(use()) == live_server.user_id
    with Client(live_server.url, use_env=False) as client:
        assert not client.signed_in
        with pytest.raises(Unauthorized):
            client.me()


def test_a_stored_api_key_is_used_and_mstack_api_key_wins(
    anon_cli: Cli, live_server: LiveServer, clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = make_key(live_server)["key"]
    result = anon_cli("login", "--api-key", input=key + "\n")
    assert result.exit_code == 0, result.output
    with Client(live_server.url) as client:
        assert client.api_key == key
        assert client.me().id == live_server.user_id
    monkeypatch.setenv("MSTACK_API_KEY", "from-the-environment")
    with Client(live_server.url) as client:
        assert client.api_key == "from-the-environment"


def test_wait_for_job_on_a_file_without_a_job_returns_at_once(
    live_server: LiveServer, clean_env: Path
) -> None:
    with Client(live_server.url, api_key=make_key(live_server)["key"]) as client:
        text = client.upload(io.BytesIO(b"plain words"), filename="notes.txt")
        assert text.job_id is None
        started = time.monotonic()
        assert client.wait_for_job(text.job_id, timeout=30) is None
        assert client.wait_for_job(text, timeout=30) is None
        assert time.monotonic() - started < 1
        # a file with a job is waited for (the tests' server runs no worker: it times out)
        image = client.upload(io.BytesIO(media.jpeg(64, 48)), filename="a.jpg")
        assert image.job_id is not None
        with pytest.raises(TimeoutError, match=image.job_id):
            client.wait_for_job(image, timeout=0.3)


# ---------------------------------------------------------------------- typed names


def test_every_generated_model_is_exported() -> None:
    models = {
        name
        for name, value in vars(mart).items()
        if isinstance(value, type) and dataclasses.is_dataclass(value) and not name.startswith("_")
    }
    assert models  # the specs define models
    assert models <= set(mstack_client.__all__)
    for name in models:
        assert getattr(mstack_client, name) is getattr(mart, name)


GOOD = """\
from mstack_client import Artist, Client, FileInfo, Job, StillImage, TitleData


def newest_artist(client: Client) -> Artist | None:
    for artist in client.artists.list():
        return artist
    return None


def title(work: StillImage) -> TitleData:
    return work.title


def job_of(client: Client, file: FileInfo) -> Job | None:
    return client.wait_for_job(file)
"""

BAD = """\
from mstack_client import Artsit, Client


def newest(client: Client) -> int:
    return client.wait_for_job("j")
"""


def test_mypy_strict_checks_a_users_imports(tmp_path: Path) -> None:
    (tmp_path / "good.py").write_text(GOOD)
    (tmp_path / "bad.py").write_text(BAD)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "good.py", "bad.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "MYPY_CACHE_DIR": str(tmp_path / ".mypy_cache")},
        timeout=600,
        check=False,
    )
    lines = result.stdout.splitlines()
    assert not [line for line in lines if line.startswith("good.py")], result.stdout
    assert any(
        line.startswith("bad.py:1:") and 'Module "mstack_client" has no attribute "Artsit"' in line
        for line in lines
    ), result.stdout
    # the names are typed, not Any: a wrong return type is found too
    assert any(line.startswith("bad.py:5:") and '"Job"' in line for line in lines), result.stdout
    assert result.returncode == 1
