"""Who is calling. Until accounts exist, every request acts as the instance's local owner.

The accounts issue replaces ``provide_actor`` with token and API-key authentication; ops
already take the actor and check it, so nothing else changes.
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from mcore.access import Actor, Role

LOCAL_OWNER = Actor(id="local", role=Role.admin)


async def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    return LOCAL_OWNER
