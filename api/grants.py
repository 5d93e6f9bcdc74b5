"""What the fast read path remembers between requests: read grants and checked links.

A read grant is "this credential may read this blob", recorded by the full route
(``api.routes.blobs``) after its database check; a checked link is a signed URL whose
signature and maker were verified once. Both are dropped after any write in this process
(``FastPath`` invalidates them) and expire after ``read_grant_ttl``.

A grant is keyed by the whole ``Actor`` (user, role, scopes, and the session or API key
it came with), never by the account alone: what one credential was allowed tells nothing
about another of the same user (a key without ``files:read``, another role after a
change). DESIGN.md: every cache of an access decision is keyed by the credential and
its scopes. A signed link is its own credential, keyed by its exact URL.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from api.blobserve import BlobMeta
from mcore.access import Actor
from mcore.clock import clock


class ReadGrants:
    """Recently checked ``(actor, cid) -> BlobMeta``, bounded and generation-stamped.

    ``actor`` is the credential as ``api.callers`` resolved it (frozen, so hashable): its
    user, role, scopes, session or key. Two credentials of one user share no grant.
    """

    def __init__(self, ttl: float, capacity: int = 100_000) -> None:
        self.ttl = ttl
        self.capacity = capacity
        self.generation = 0
        self._items: OrderedDict[tuple[Actor, str], tuple[BlobMeta, int, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, actor: Actor, cid: str) -> BlobMeta | None:
        key = (actor, cid)
        item = self._items.get(key)
        if item is None:
            return None
        meta, generation, expires = item
        if generation != self.generation or expires < time.monotonic():
            del self._items[key]
            return None
        return meta

    def put(self, actor: Actor, cid: str, meta: BlobMeta, generation: int) -> None:
        """Remember a grant checked at ``generation`` (dropped if a write happened since)."""
        if generation != self.generation or self.ttl <= 0:
            return
        key = (actor, cid)
        self._items[key] = (meta, generation, time.monotonic() + self.ttl)
        self._items.move_to_end(key)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def invalidate(self) -> None:
        self.generation += 1
        self._items.clear()


class SignedLinks:
    """Links whose signature has been checked: ``path?query -> (BlobMeta, expiry)``.

    Only the identical URL hits, so a hit carries the signature checked before; the expiry
    is checked on every hit. Bounded, least recently used first out.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, tuple[BlobMeta, float]] = OrderedDict()

    def get(self, url: str) -> BlobMeta | None:
        item = self._items.get(url)
        if item is None:
            return None
        meta, expires = item
        if expires <= clock.time():
            del self._items[url]
            return None
        self._items.move_to_end(url)
        return meta

    def put(self, url: str, meta: BlobMeta, expires: float) -> None:
        self._items[url] = (meta, expires)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def invalidate(self) -> None:
        self._items.clear()
