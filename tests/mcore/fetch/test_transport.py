"""The pinned transport: it connects to the address it was given for a host, never to a
lookup of the name, and keeps the name as the Host header and the TLS server name (whose
certificate must match it). The remote side is a real TLS server on 127.0.0.1."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trustme

from mcore.fetch.download import PinnedTransport, Refused
from mcore.settings import FetchSettings, Settings
from tests.fetchserver import RemoteServer, Reply, remote_server

NAME = "archive.fetch-test.invalid"  # .invalid never resolves: only the pin can reach it
LOOPBACK = ipaddress.ip_address("127.0.0.1")


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_remote(ca: trustme.CA) -> Iterator[RemoteServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(NAME).configure_cert(context)
    with remote_server(context) as server:
        server.routes["/a.txt"] = Reply(chunks=[b"over TLS\n"])
        yield server


def _settings(tmp_path: Path, ca: trustme.CA) -> Settings:
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    return Settings(data_dir=tmp_path, fetch=FetchSettings(ca_file=bundle))


async def _get(transport: PinnedTransport, url: str) -> httpx.Response:
    request = httpx.Request("GET", url)
    response = await transport.handle_async_request(request)
    await response.aread()
    return response


async def test_the_name_is_kept_for_host_sni_and_certificate_while_the_pin_is_dialled(
    tmp_path: Path, ca: trustme.CA, tls_remote: RemoteServer
) -> None:
    url = f"https://{NAME}:{tls_remote.port}/a.txt"
    async with PinnedTransport(_settings(tmp_path, ca)) as transport:
        transport.pin(httpx.URL(url), LOOPBACK)
        response = await _get(transport, url)
    assert response.status_code == 200
    assert response.content == b"over TLS\n"
    assert tls_remote.sni == [NAME]
    assert tls_remote.seen[0].headers["host"] == f"{NAME}:{tls_remote.port}"


async def test_a_certificate_for_another_name_is_refused(
    tmp_path: Path, ca: trustme.CA, tls_remote: RemoteServer
) -> None:
    other = "elsewhere.fetch-test.invalid"
    url = f"https://{other}:{tls_remote.port}/a.txt"
    async with PinnedTransport(_settings(tmp_path, ca)) as transport:
        transport.pin(httpx.URL(url), LOOPBACK)
        with pytest.raises(httpx.ConnectError, match="certificate"):
            await _get(transport, url)
    assert tls_remote.sni == [other]
    assert tls_remote.seen == []


async def test_a_certificate_from_an_untrusted_ca_is_refused(
    tmp_path: Path, tls_remote: RemoteServer
) -> None:
    url = f"https://{NAME}:{tls_remote.port}/a.txt"
    async with PinnedTransport(Settings(data_dir=tmp_path)) as transport:
        transport.pin(httpx.URL(url), LOOPBACK)
        with pytest.raises(httpx.ConnectError, match="certificate verify failed"):
            await _get(transport, url)
    assert tls_remote.seen == []


async def test_a_url_that_was_not_pinned_is_never_sent(tmp_path: Path) -> None:
    with RemoteServer() as remote:
        remote.routes["/a"] = Reply(chunks=[b"a"])
        async with PinnedTransport(Settings(data_dir=tmp_path)) as transport:
            transport.pin(httpx.URL(remote.url("/a")), LOOPBACK)
            assert (await _get(transport, remote.url("/a"))).content == b"a"
            with pytest.raises(Refused, match="was not checked before connecting"):
                await _get(transport, remote.url("/a", host="localhost"))
        assert [s.path for s in remote.seen] == ["/a"]
