"""Who is calling. Until accounts exist, every request acts as the instance's local owner.

The accounts issue fills these hooks with token, API-key and signed-link authentication.
Ops already take the actor and check it, so nothing else changes when it does.

- ``provide_actor``: the dependency every route receives as ``actor``.
- ``authenticate_token``: who a bearer token belongs to (used by the WebSocket, whose client
  authenticates in its first message, never in the URL).
- ``actor_is_live``: whether the session behind an actor is still valid (revoked, expired,
  user disabled); long-lived connections call it to close themselves. Must be cheap.
- ``fast_actor``: the actor of a request from its headers alone, with no database round trip,
  or None when only the full route can tell. The blob fast path (``api.fastpath``) uses it.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.types import HTTPScope

from mcore.access import Actor, Role

LOCAL_OWNER = Actor(id="local", role=Role.admin)


async def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    return LOCAL_OWNER


async def authenticate_token(state: State, token: str) -> Actor | None:
    """The actor a bearer token (access token or API key) stands for; None if not valid."""
    return LOCAL_OWNER if token else None


async def actor_is_live(state: State, actor: Actor) -> bool:
    """False once the actor's session has been revoked or has expired."""
    return True


async def fast_actor(state: State, scope: HTTPScope) -> Actor | None:
    """The caller, from headers alone and without the database; None to take the slow path."""
    return LOCAL_OWNER
