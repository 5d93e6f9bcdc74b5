"""Downloading a URL safely into the temp area: the checks of every hop, and the transport
that connects to the address a host was resolved to and checked at.

Each hop (the URL, then each redirect) is checked before any connection: HTTP(S) only, no
user name or password in it, its host resolved once and every address it has refused
unless public or allowed (``addresses``). :class:`PinnedTransport` then connects to the
address that was checked, not to a second lookup of the name, so DNS rebinding cannot move
the connection elsewhere; the ``Host`` header and the TLS server name (SNI, and the name
the certificate must carry) stay those of the URL. Redirects are followed here, one by
one, up to ``fetch.max_redirects``; no cookie, credential or header of the caller is ever
sent, to any hop. Requests go out on the transport alone: no client's cookie jar, no proxy from the
environment (a proxy would make its own lookup), no log line naming the URL.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import ssl
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from email.message import Message
from urllib.parse import unquote

import httpx

from mcore.fetch.addresses import AllowList, IPAddress, check_address
from mcore.settings import Settings

MAX_URL_LENGTH = 8192
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")
USER_AGENT = "mstack-fetch/1"
REDIRECTS = frozenset({301, 302, 303, 307, 308})
CHUNK = 1024 * 1024


class Refused(Exception):
    """A URL (or a redirect to one) that a fetch may not follow; ``message`` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Failed(Exception):
    """The remote side failed (unreachable, an error status); ``transient`` when trying
    again later may help."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient


def where(url: httpx.URL) -> str:
    """A URL as shown in messages and logs: scheme, host and port, never its path or query
    (a shared link's path or query is often its secret)."""
    port = f":{url.port}" if url.port else ""
    host = f"[{url.host}]" if ":" in url.host else url.host
    return f"{url.scheme}://{host}{port}"


def check_url(text: str) -> httpx.URL:
    """The URL parsed, or ``Refused`` when it is not a plain ``http(s)://host/...``."""
    if len(text) > MAX_URL_LENGTH:
        raise Refused(f"the URL is longer than {MAX_URL_LENGTH} characters")
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL as exc:
        raise Refused(f"the URL is not valid: {exc}") from None
    if url.scheme not in ("http", "https"):
        shown = f"{url.scheme}:" if url.scheme else "no scheme"
        raise Refused(f"only http:// and https:// URLs can be fetched, not {shown}")
    if url.userinfo:
        raise Refused(
            "the URL carries a user name or password (user:password@host); fetches send no"
            " credentials: give a link that works without them (a shared or signed link)"
        )
    if not url.host:
        raise Refused("the URL has no host")
    if url.port is not None and not 0 < url.port < 65536:
        raise Refused(f"the URL's port {url.port} is not a valid port")
    if _literal(url.host) is None and not HOST_NAME.fullmatch(url.host):
        raise Refused(f"the URL's host {url.host!r} is not a valid host name")
    return url


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def resolve(url: httpx.URL, *, wait: float) -> list[IPAddress]:
    """Every address of the URL's host (itself, for an address); ``Refused`` when the name
    does not resolve."""
    literal = _literal(url.host)
    if literal is not None:
        return [literal]
    port = url.port or (443 if url.scheme == "https" else 80)
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(url.host, port, type=socket.SOCK_STREAM), wait
        )
    except (OSError, UnicodeError, TimeoutError):
        raise Refused(f"the host {url.host!r} could not be resolved") from None
    found: list[IPAddress] = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    if not found:
        raise Refused(f"the host {url.host!r} has no address")
    return found


async def pin(url: httpx.URL, allow: AllowList, *, wait: float) -> IPAddress:
    """The address to connect to for ``url``: its host's first, once every address it has
    passed the checks (``Refused`` otherwise: a name with one internal address is refused
    whole, whichever address a later lookup would give first)."""
    addresses = await resolve(url, wait=wait)
    for address in addresses:
        why = check_address(address, url.host, allow)
        if why is not None:
            raise Refused(why)
    return addresses[0]


class PinnedTransport(httpx.AsyncBaseTransport):
    """Sends each request to the address :func:`pin` chose for its host and port, with the
    URL's host kept as the ``Host`` header and the TLS server name."""

    def __init__(self, settings: Settings) -> None:
        context = httpx.create_ssl_context(trust_env=False)
        if settings.fetch.ca_file is not None:
            context.load_verify_locations(cafile=str(settings.fetch.ca_file))
        self._inner = httpx.AsyncHTTPTransport(
            verify=context,
            trust_env=False,
            retries=0,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=0),
        )
        self.pins: dict[tuple[str, str, int | None], IPAddress] = {}

    def pin(self, url: httpx.URL, address: IPAddress) -> None:
        self.pins[(url.scheme, url.host, url.port)] = address

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        address = self.pins.get((url.scheme, url.host, url.port))
        if address is None:  # only pinned URLs are ever sent; refuse anything else
            raise Refused(f"{where(url)} was not checked before connecting")
        if _literal(url.host) is None:
            request.extensions = {**request.extensions, "sni_hostname": url.host}
        request.url = url.copy_with(host=str(address))
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


@dataclass
class Answer:
    """The final response of a fetch: its URL, length if told, type and file name."""

    url: httpx.URL
    length: int | None
    content_type: str | None
    filename: str | None


def _filename(url: httpx.URL, response: httpx.Response) -> str | None:
    """The name the server gives (``Content-Disposition``), else the URL's last segment."""
    disposition = response.headers.get("content-disposition")
    if disposition:
        message = Message()
        message["content-disposition"] = disposition
        name = message.get_filename()
        if name:
            return name
    segment = unquote(url.path.rsplit("/", 1)[-1])
    return segment or None


def _length(response: httpx.Response) -> int | None:
    value = response.headers.get("content-length", "")
    return int(value) if value.isdigit() and "content-encoding" not in response.headers else None


Start = Callable[[Answer], Awaitable[None]]


async def download(
    text: str, settings: Settings, *, start: Start | None = None
) -> AsyncGenerator[bytes, None]:
    """The bytes at ``text`` as they arrive, redirects followed and every hop checked;
    ``start`` hears of the final response before its first byte. ``Refused`` for what may
    not be fetched, ``Failed`` when the remote side fails. The caller bounds the size and
    the total time."""
    allow = AllowList.parse(settings.fetch.allowed_hosts)
    limits = settings.fetch
    connect = limits.connect_timeout.total_seconds()
    timeout = httpx.Timeout(
        connect=connect, read=limits.read_timeout.total_seconds(), write=connect, pool=connect
    )
    transport = PinnedTransport(settings)
    url = check_url(text)
    async with transport:
        for hop in range(limits.max_redirects + 1):
            try:
                transport.pin(url, await pin(url, allow, wait=connect))
            except Refused as exc:
                if hop == 0:
                    raise
                raise Refused(f"a redirect led to {where(url)}: {exc.message}") from None
            # sent on the transport itself: no client, so no cookie jar, no proxy from the
            # environment, and no log line with the URL (its query may be a secret)
            request = httpx.Request(
                "GET",
                url,
                headers={"User-Agent": USER_AGENT, "Accept": "*/*", "Accept-Encoding": "identity"},
                extensions={"timeout": timeout.as_dict()},
            )
            try:
                response = await transport.handle_async_request(request)
            except httpx.TimeoutException:
                raise Failed(f"{where(url)} did not answer in time", transient=True) from None
            except httpx.HTTPError as exc:
                raise Failed(
                    f"{where(url)} could not be reached: {_reason(exc)}",
                    transient=_tls_error(exc) is None,  # a bad certificate stays bad
                ) from None
            response.request = request
            try:
                if response.status_code in REDIRECTS and "location" in response.headers:
                    if hop == limits.max_redirects:
                        raise Refused(
                            f"{where(url)} redirects more than {limits.max_redirects} times"
                            " (fetch.max_redirects)"
                        )
                    try:
                        target = url.join(response.headers["location"])
                    except httpx.InvalidURL:
                        bad = f"{where(url)} redirects to a URL that is not valid"
                        raise Refused(bad) from None
                    try:
                        url = check_url(str(target))
                    except Refused as exc:
                        raise Refused(f"{where(url)} redirects elsewhere: {exc.message}") from None
                    continue
                if not response.is_success:
                    raise Failed(
                        f"{where(url)} answered {response.status_code}"
                        f" {response.reason_phrase}".rstrip(),
                        transient=response.status_code >= 500 or response.status_code == 429,
                    )
                answer = Answer(
                    url=url,
                    length=_length(response),
                    content_type=response.headers.get("content-type"),
                    filename=_filename(url, response),
                )
                if start is not None:
                    await start(answer)
                try:
                    async for chunk in response.aiter_bytes(CHUNK):
                        yield chunk
                except httpx.TimeoutException:
                    raise Failed(f"{where(url)} stopped sending", transient=True) from None
                except httpx.HTTPError as exc:
                    raise Failed(
                        f"the download from {where(url)} broke off: {_reason(exc)}",
                        transient=True,
                    ) from None
                return
            finally:
                await response.aclose()
    raise AssertionError("unreachable")  # the loop returns or raises


def _tls_error(exc: Exception) -> ssl.SSLError | None:
    cause = exc.__cause__ or exc.__context__
    while cause is not None and not isinstance(cause, ssl.SSLError):
        cause = cause.__cause__ or cause.__context__
    return cause


def _reason(exc: Exception) -> str:
    tls = _tls_error(exc)
    if isinstance(tls, ssl.SSLCertVerificationError):
        return f"its TLS certificate is not valid ({tls.verify_message})"
    if tls is not None:
        return f"TLS failed ({tls.reason or tls})"
    return str(exc) or type(exc).__name__
