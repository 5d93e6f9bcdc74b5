"""Whether a session or API key still stands, answered from memory on the hot path.

Every authenticated request asks; a database round trip each time would cap reads at a few
thousand a second. So each process keeps a small cache of credential state (revoked,
expiry, the user's role and disabled flag) and:

- a change made in this process evicts its entries right after the transaction commits,
  so the very next request reads the new state;
- with Redis configured, the change is also published and every other process evicts
  the same entries when the message arrives; while a process is not subscribed, it does
  not trust its cache at all;
- otherwise an entry is trusted for ``auth_cache_ttl`` at most (changes made by another
  process, e.g. the ``mstack admin`` commands, without Redis).

A fetch that started before an eviction is not stored (a generation counter), so a
request racing a revocation cannot put the old state back.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Role
from mcore.clock import clock

MAX_ENTRIES = 50_000


@dataclass(frozen=True)
class CredentialState:
    """A session's or key's standing, with its user's role, as last read from the database."""

    id: str  # the session id or the API key id
    user_id: str
    role: Role
    live: bool  # not revoked, and the user not disabled
    expires: float | None  # Unix seconds; None: never
    scopes: frozenset[str] | None = None  # API keys only
    last_used: float | None = None  # API keys only

    def valid(self, now: float) -> bool:
        return self.live and (self.expires is None or self.expires > now)


@dataclass(frozen=True)
class Change:
    """What changed: ``kind`` is ``session``, ``key``, ``user`` or ``all``."""

    kind: str
    id: str = ""

    def encode(self) -> str:
        return f"{self.kind}:{self.id}"

    @classmethod
    def decode(cls, text: str) -> Change | None:
        kind, sep, ident = text.partition(":")
        if not sep or kind not in ("session", "key", "user", "all"):
            return None
        return cls(kind, ident)


class StateCache:
    """Credential state by cache key (``s:<session id>`` or ``k:<key digest>``)."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self.trusted = True  # False while changes from other processes could be missed
        self.generation = 0
        self._items: OrderedDict[str, tuple[CredentialState, float]] = OrderedDict()

    def get(self, key: str) -> CredentialState | None:
        if not self.trusted:
            return None
        item = self._items.get(key)
        if item is None:
            return None
        state, stored = item
        if clock.time() - stored > self.ttl:
            del self._items[key]
            return None
        return state

    def put(self, key: str, state: CredentialState, generation: int) -> None:
        """Store a state fetched when ``generation`` was current, unless something changed."""
        if generation != self.generation:
            return
        self._items[key] = (state, clock.time())
        self._items.move_to_end(key)
        while len(self._items) > MAX_ENTRIES:
            self._items.popitem(last=False)

    def apply(self, change: Change) -> None:
        """Drop every entry the change concerns."""
        self.generation += 1
        if change.kind == "all":
            self._items.clear()
            return
        if change.kind == "session":
            self._items.pop("s:" + change.id, None)
            return
        for key in [k for k, (state, _) in self._items.items() if _concerns(change, state)]:
            del self._items[key]

    def clear(self) -> None:
        self.apply(Change("all"))


def _concerns(change: Change, state: CredentialState) -> bool:
    if change.kind == "user":
        return state.user_id == change.id
    return change.kind == "key" and state.id == change.id and state.scopes is not None


def after_commit(session: AsyncSession, fn: Callable[[], Any]) -> None:
    """Call ``fn`` once the session's current transaction commits (never on rollback)."""
    sync = session.sync_session
    pending: list[Callable[[], Any]] | None = sync.info.get("mstack_after_commit")
    if pending is None:
        pending = sync.info["mstack_after_commit"] = []

        def run(_session: Any) -> None:
            callbacks = list(sync.info.get("mstack_after_commit", []))
            sync.info["mstack_after_commit"] = []
            for callback in callbacks:
                callback()

        def drop(_session: Any, _previous: Any) -> None:
            sync.info["mstack_after_commit"] = []

        event.listen(sync, "after_commit", run)
        event.listen(sync, "after_soft_rollback", drop)
    pending.append(fn)
