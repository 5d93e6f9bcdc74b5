"""Signed links: a URL that carries its own expiry and an HMAC-SHA256 signature.

Verifying one is a pure function of the settings and the URL (no database, no cache), so
a raw ASGI fast path can serve ``/blobs/{cid}`` and ``/api/v1/files/{id}/content`` from it.
Everything the response needs (the CID, the content type, the file name) travels in the
link's signed query parameters.

The signature covers the path, every query parameter except ``sig`` (sorted), and the key
id. Keys come from ``settings.link_keys``; the current one signs, and any listed one
verifies, so the signing key rotates without breaking links still valid.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, urlencode

from mcore.clock import clock
from mcore.errors import Forbidden
from mcore.settings import Settings

VERSION = b"mstack-link-v1"
RESERVED = ("exp", "kid", "sig")


class LinkRefused(Forbidden):
    """A signed link that is malformed, expired, altered or signed by an unknown key."""

    title = "Link refused"


@dataclass(frozen=True)
class LinkGrant:
    """What a valid link allows: ``path`` until ``expires``, with its signed ``params``."""

    path: str
    expires: int
    params: dict[str, str] = field(default_factory=dict)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _message(path: str, params: list[tuple[str, str]]) -> bytes:
    canonical = urlencode(sorted(params), quote_via=quote)
    return b"\n".join([VERSION, path.encode(), canonical.encode()])


class LinkSigner:
    """Makes and checks signed links with the settings' ``link_keys``."""

    def __init__(self, settings: Settings) -> None:
        self.kid = settings.link_key_id
        self.keys = {kid: s.get_secret_value().encode() for kid, s in settings.link_keys.items()}

    def _sign(self, kid: str, path: str, params: list[tuple[str, str]]) -> str:
        mac = hmac.new(self.keys[kid], _message(path, params), hashlib.sha256)
        return _b64(mac.digest())

    def sign(self, path: str, *, expires: int, params: dict[str, str] | None = None) -> str:
        """The path with a query that grants it until ``expires`` (Unix seconds)."""
        extra = dict(params or {})
        if any(name in extra for name in RESERVED):
            raise ValueError(f"link parameters may not use the names {RESERVED}")
        pairs = [*sorted(extra.items()), ("exp", str(expires)), ("kid", self.kid)]
        sig = self._sign(self.kid, path, pairs)
        return f"{path}?{urlencode([*pairs, ('sig', sig)], quote_via=quote)}"

    def verify(self, path: str, query: str | bytes) -> LinkGrant:
        """The grant of a valid link for ``path``; ``LinkRefused`` saying why otherwise."""
        if isinstance(query, bytes):
            try:
                query = query.decode("ascii")
            except UnicodeDecodeError:
                raise LinkRefused("this link is malformed") from None
        try:
            pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
        except ValueError:
            raise LinkRefused("this link is malformed") from None
        names = [name for name, _ in pairs]
        if len(set(names)) != len(names):
            raise LinkRefused("this link is malformed: a parameter appears twice")
        values = dict(pairs)
        sig, exp, kid = values.pop("sig", None), values.get("exp"), values.get("kid")
        if sig is None or exp is None or kid is None or not exp.isdigit():
            raise LinkRefused("this link is malformed: it needs exp, kid and sig")
        if kid not in self.keys:
            raise LinkRefused("this link was signed with a key this server no longer accepts")
        expected = self._sign(kid, path, list(values.items()))
        if not hmac.compare_digest(expected.encode(), sig.encode()):
            raise LinkRefused("this link's signature does not match: it has been altered")
        expires = int(exp)
        if expires <= clock.time():
            raise LinkRefused("this link has expired; ask for a new one")
        return LinkGrant(
            path, expires, {k: v for k, v in values.items() if k not in ("exp", "kid")}
        )


def is_signed(query: str | bytes) -> bool:
    """Whether a query string claims to be a signed link (it carries ``sig``)."""
    if isinstance(query, bytes):
        return query.startswith(b"sig=") or b"&sig=" in query
    return query.startswith("sig=") or "&sig=" in query
