"""Signed links: a URL that carries its own expiry and an HMAC-SHA256 signature.

Verifying one is a pure function of the settings and the URL (no database, no cache), so
a raw ASGI fast path can serve ``/blobs/{cid}`` and ``/api/v1/files/{id}/content`` from it.
Everything the response needs (the CID, the content type, the file name) travels in the
link's signed query parameters.

The signature covers the path and every query parameter except ``sig`` (the key id and
expiry included). Keys come from ``settings.link_keys``; the current one signs, and any listed one
verifies, so the signing key rotates without breaking links still valid.
"""

from __future__ import annotations

import base64
import hmac
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from mcore.clock import clock
from mcore.errors import Forbidden
from mcore.settings import Settings

VERSION = b"mstack-link-v1"
RESERVED = ("exp", "kid", "sig")


class LinkRefused(Forbidden):
    """A signed link that is malformed, expired, altered or signed by an unknown key."""


@dataclass(frozen=True)
class LinkGrant:
    """What a valid link allows: ``path`` until ``expires``, with its signed ``params``."""

    path: str
    expires: int
    params: dict[str, str] = field(default_factory=dict)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _part(name: str, value: str) -> str:
    return f"{quote(name, safe='')}={quote(value, safe='')}"


class LinkSigner:
    """Makes and checks signed links with the settings' ``link_keys``.

    The signed message is the path and the query's ``name=value`` parts (except ``sig``)
    exactly as they appear in the URL, sorted: verifying needs no decoding, and a link
    whose parameters were re-encoded on the way is refused like any other alteration.
    """

    def __init__(self, settings: Settings) -> None:
        self.kid = settings.link_key_id
        self.keys = {kid: s.get_secret_value().encode() for kid, s in settings.link_keys.items()}

    def _sign(self, kid: str, path: str, parts: list[str]) -> str:
        message = b"\n".join([VERSION, path.encode(), "&".join(sorted(parts)).encode()])
        return _b64(hmac.digest(self.keys[kid], message, "sha256"))

    def sign(self, path: str, *, expires: int, params: dict[str, str] | None = None) -> str:
        """The path with a query that grants it until ``expires`` (Unix seconds)."""
        extra = dict(params or {})
        if any(name in extra for name in RESERVED):
            raise ValueError(f"link parameters may not use the names {RESERVED}")
        parts = [_part(k, v) for k, v in sorted(extra.items())]
        parts += [_part("exp", str(expires)), _part("kid", self.kid)]
        sig = self._sign(self.kid, path, parts)
        return f"{path}?{'&'.join(parts)}&sig={sig}"

    def verify(self, path: str, query: str | bytes) -> LinkGrant:
        """The grant of a valid link for ``path``; ``LinkRefused`` saying why otherwise.

        ``query`` is the raw query string (an ASGI scope's ``query_string`` bytes will do).
        """
        if isinstance(query, bytes):
            try:
                query = query.decode("ascii")
            except UnicodeDecodeError:
                raise LinkRefused("this link is malformed") from None
        signed: list[str] = []
        values: dict[str, str] = {}
        sig = None
        for part in query.split("&"):
            name, sep, value = part.partition("=")
            if not sep or not name:
                raise LinkRefused("this link is malformed")
            if name in values or (name == "sig" and sig is not None):
                raise LinkRefused("this link is malformed: a parameter appears twice")
            if name == "sig":
                sig = value
                continue
            signed.append(part)
            values[name] = value
        exp, kid = values.get("exp"), values.get("kid")
        if sig is None or exp is None or kid is None or not exp.isdigit():
            raise LinkRefused("this link is malformed: it needs exp, kid and sig")
        if kid not in self.keys:
            raise LinkRefused("this link was signed with a key this server no longer accepts")
        if not hmac.compare_digest(self._sign(kid, path, signed).encode(), sig.encode()):
            raise LinkRefused("this link's signature does not match: it has been altered")
        expires = int(exp)
        if expires <= clock.time():
            raise LinkRefused("this link has expired; ask for a new one")
        params = {
            unquote(k): unquote(v) if "%" in v else v
            for k, v in values.items()
            if k not in RESERVED
        }
        return LinkGrant(path, expires, params)


def is_signed(query: str | bytes) -> bool:
    """Whether a query string claims to be a signed link (it carries ``sig``)."""
    if isinstance(query, bytes):
        return query.startswith(b"sig=") or b"&sig=" in query
    return query.startswith("sig=") or "&sig=" in query
