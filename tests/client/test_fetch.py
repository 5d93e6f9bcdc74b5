"""``Client.fetch`` / ``AsyncClient.fetch`` and ``mstack fetch``, against a real server
(its worker on, 127.0.0.1 allowed in ``fetch.allowed_hosts``) fetching from a real HTTP
server on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcore.cid import file_cid
from mcore.settings import FetchSettings, Settings
from mstack_client import AsyncClient, Client, JobFailed
from mstack_client.errors import ApiError
from tests.apphelpers import fast
from tests.client.conftest import USERNAME, Cli, signed_in_cli
from tests.conftest import PASSWORD, LiveServer
from tests.fetchserver import RemoteServer, Reply

DATA = b"a remote file's bytes\n" * 100


@pytest.fixture
def remote() -> Iterator[RemoteServer]:
    with RemoteServer() as server:
        server.routes["/notes/today.txt"] = Reply(chunks=[DATA])
        yield server


@pytest.fixture
def fetching_server(settings: Settings) -> Iterator[LiveServer]:
    quick = fast(settings)
    jobs = quick.jobs.model_copy(update={"embedded_worker": True})
    fetch = FetchSettings(allowed_hosts=["127.0.0.1"])
    server = LiveServer(quick.model_copy(update={"jobs": jobs, "fetch": fetch}))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sdk_f(fetching_server: LiveServer) -> Iterator[Client]:
    with Client(fetching_server.url) as client:
        client.login(username=USERNAME, password=PASSWORD)
        yield client


@pytest.fixture
def cli_f(fetching_server: LiveServer, config_home: Path) -> Cli:
    return signed_in_cli(fetching_server, config_home)


def test_the_sdk_fetches_a_url_into_a_file(sdk_f: Client, remote: RemoteServer) -> None:
    queued = sdk_f.fetch(remote.url("/notes/today.txt"))
    assert queued.kind == "fetch_url"
    assert queued.state in ("queued", "running", "succeeded")
    seen: list[int] = []
    job = sdk_f.wait_for_job(queued.id, timeout=30, progress=lambda j: seen.append(j.progress))
    assert job.state == "succeeded"
    assert seen[-1] == 100
    file = sdk_f.get_file(job.result["file_id"])
    assert file.cid == file_cid(DATA)
    assert file.filename == "today.txt"
    assert file.size == len(DATA)


def test_the_sdk_waits_names_and_checks_the_cid(sdk_f: Client, remote: RemoteServer) -> None:
    url = remote.url("/notes/today.txt")
    job = sdk_f.fetch(url, filename="renamed.txt", cid=file_cid(DATA), wait=True, timeout=30)
    assert job.state == "succeeded"
    assert job.result["filename"] == "renamed.txt"
    with pytest.raises(JobFailed, match="not the expected"):
        sdk_f.fetch(url, cid=file_cid(b"other bytes"), wait=True, timeout=30)


def test_a_refused_url_is_the_servers_422(sdk_f: Client) -> None:
    with pytest.raises(ApiError) as refused:
        sdk_f.fetch("http://169.254.169.254/latest/meta-data/")
    assert refused.value.status == 422
    assert "cloud metadata service address" in str(refused.value)


async def test_the_async_sdk_fetches_too(fetching_server: LiveServer, remote: RemoteServer) -> None:
    async with AsyncClient(fetching_server.url) as client:
        await client.login(username=USERNAME, password=PASSWORD)
        job = await client.fetch(remote.url("/notes/today.txt"), wait=True, timeout=30)
        assert job.state == "succeeded"
        assert (await client.get_file(job.result["file_id"])).cid == file_cid(DATA)


def test_mstack_fetch_queues_or_waits_and_prints_the_file(cli_f: Cli, remote: RemoteServer) -> None:
    url = remote.url("/notes/today.txt")
    queued = cli_f("fetch", url)
    assert queued.exit_code == 0, queued.output
    assert queued.output.startswith("queued job ")
    assert "mstack jobs watch " in queued.output

    waited = cli_f("fetch", url, "--name", "kept.txt", "--wait")
    assert waited.exit_code == 0, waited.output
    assert file_cid(DATA) in waited.output
    assert "kept.txt" in waited.output

    as_json = cli_f("fetch", url, "--wait", "--json")
    assert as_json.exit_code == 0, as_json.output
    body = json.loads(as_json.output)
    assert body["job"]["state"] == "succeeded"
    assert body["file"]["cid"] == file_cid(DATA)
    assert body["file"]["id"] == body["job"]["result"]["file_id"]


def test_mstack_fetch_reports_a_failed_or_refused_fetch(cli_f: Cli, remote: RemoteServer) -> None:
    missing = cli_f("fetch", remote.url("/nothing-here"), "--wait")
    assert missing.exit_code == 1
    assert "answered 404 Not Found" in missing.output
    refused = cli_f("fetch", "ftp://example.org/file")
    assert refused.exit_code == 1
    assert "only http:// and https:// URLs can be fetched" in refused.output


def test_a_fetch_goes_into_a_folder(sdk_f: Client, cli_f: Cli, remote: RemoteServer) -> None:
    url = remote.url("/notes/today.txt")
    notes = sdk_f.folders.create("Notes")
    job = sdk_f.fetch(url, folder=notes, wait=True, timeout=30)
    assert sdk_f.get_file(job.result["file_id"]).folder_id == notes.id
    printed = cli_f("fetch", url, "--folder", notes.id, "--name", "again.txt", "--wait", "--json")
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.output)["file"]["folder_id"] == notes.id
    names = sorted(f.filename for f in sdk_f.list_files(folder_id=notes.id).items)
    assert names == ["again.txt", "today.txt"]
    missing = cli_f("fetch", url, "--folder", "01jf3z8w5qk1v9x2b7c4d6e8f0")
    assert missing.exit_code == 1
    assert "no folder with id" in missing.stderr
