"""The hot read path: ``GET /blobs/{cid}`` (and signed links to a file's content)
answered without a database round trip.

A signed link is checked once (its signature, then in the database that its maker may
still read what it points at and that the session or API key it was made with is live)
and remembered like a read grant: until a write in this process, ``read_grant_ttl`` or
the link's expiry, whichever comes first. So a sign-out or key revocation made in this
process ends the link at once, and one made in another process within ``read_grant_ttl``.
Otherwise the read needs two answers: who is calling, and may they read it. The first
comes from ``api.callers.fast_actor`` (headers only, no database while the credentials
are cached). The second is remembered: the slow route (``api.routes.blobs``) checks the
database and records a *read grant*; later reads of the same blob with the same
credential (the same session or API key, with the same role and scopes: never merely the
same account) are served from here. Any successful write
request in this process invalidates every grant, so a file trashed or made private here
stops being served at once; grants made in other processes' changes expire after
``read_grant_ttl`` seconds.
"""

from __future__ import annotations

from typing import cast

from litestar import Litestar
from litestar.types import HTTPScope, Receive, Scope, Send

from api.blobserve import BlobMeta, BlobResponse
from api.callers import fast_actor
from api.deps import READ_METHODS
from api.grants import ReadGrants, SignedLinks
from api.metrics import MetricsMiddleware
from api.routes.blobs import signed_meta
from api.state import app_state
from mcore.auth import is_signed
from mcore.auth.ops.links import FILE_CONTENT_PATH
from mcore.cid import is_canonical
from mcore.clock import clock
from mcore.errors import DomainError

SERVED = frozenset({"GET", "HEAD"})  # what the fast path may answer
BLOBS = "/blobs/"


def _asks_ipld(scope: HTTPScope) -> bool:
    """Whether the request's Accept names one of the trustless gateway's forms."""
    return any(key == b"accept" and b"vnd.ipld" in value.lower() for key, value in scope["headers"])


class FastPath:
    """ASGI wrapper: serves granted blob reads directly and invalidates grants after writes."""

    def __init__(self, app: Litestar) -> None:
        self.app = app
        self.state = app_state(app.state)
        self.lifespan = app.lifespan  # for tests that run the app in-process
        self.grants: ReadGrants = self.state.read_grants
        self.links = SignedLinks()
        self._metered = MetricsMiddleware(self._dispatch)  # counts every request, this path's too

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._metered(scope, receive, send)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        http = cast(HTTPScope, scope)
        method = http["method"]
        if method in SERVED:
            path = http["path"]
            cid: str | None = None
            if path.startswith(BLOBS):
                cid = path[len(BLOBS) :]
                if _asks_ipld(http):
                    path = ""  # a raw block or a CAR: the full route chooses the form
            elif not (FILE_CONTENT_PATH.match(path) and is_signed(http["query_string"])):
                path = ""  # nothing the fast path answers
            if path and await self._serve(http, cid, receive, send):
                return
        if method in READ_METHODS:
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.grants.invalidate()
            self.links.invalidate()

    async def _serve(self, scope: HTTPScope, cid: str | None, receive: Receive, send: Send) -> bool:
        """Answer a blob read (``cid``) or a signed link to a file's content (``None``: the
        link names the CID); False leaves the request to the full route."""
        meta: BlobMeta | None = None
        if is_signed(scope["query_string"]):
            meta = await self._signed(scope, cid)
        elif cid is not None:
            # no need to validate the CID: only a CID the full route checked has a grant
            actor = await fast_actor(self.state, scope)
            meta = None if actor is None else self.grants.get(actor, cid)
        if meta is None:
            return False
        await BlobResponse(meta, self.state.store, self.state.blob_cache)(scope, receive, send)
        return True

    async def _signed(self, scope: HTTPScope, cid: str | None) -> BlobMeta | None:
        query = scope["query_string"]
        url = f"{scope['path']}?{query.decode('latin-1')}"
        meta = self.links.get(url)
        if meta is not None:
            return meta
        if cid is not None and not is_canonical(cid):
            return None
        try:
            signed = await signed_meta(self.state, scope["path"], query, cid=cid)
        except DomainError:
            return None  # the full route answers with the reason
        if signed is None:
            return None
        meta, expires = signed
        # the maker's right to read was checked now: trust it no longer than a grant
        self.links.put(url, meta, min(expires, clock.time() + self.grants.ttl))
        return meta
