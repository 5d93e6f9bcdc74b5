"""The hooks other parts of the server call: ``authenticate_token`` and ``actor_is_live``
(the events WebSocket authenticates its first message and re-checks with them)."""

from api.callers import actor_is_live, authenticate_token
from mcore.access import ANONYMOUS, SYSTEM


async def test_authenticate_token_and_liveness(client, server_app) -> None:
    state = server_app.state
    actor = await authenticate_token(state, client.token)
    assert actor is not None
    assert actor.id == client.user_id
    assert actor.session_id is not None
    assert await actor_is_live(state, actor)
    assert await authenticate_token(state, "nonsense") is None
    assert await authenticate_token(state, "") is None
    await client.post("/api/v1/auth/logout")
    assert not await actor_is_live(state, actor)
    assert await authenticate_token(state, client.token) is None


async def test_api_key_liveness(client, server_app) -> None:
    state = server_app.state
    made = (
        await client.post("/api/v1/auth/keys", json={"name": "ws", "scopes": ["files:read"]})
    ).json()
    actor = await authenticate_token(state, made["key"])
    assert actor is not None
    assert actor.key_id == made["id"]
    assert actor.scopes == frozenset({"files:read"})
    assert await actor_is_live(state, actor)
    await client.delete(f"/api/v1/auth/keys/{made['id']}")
    assert not await actor_is_live(state, actor)


async def test_actors_without_credentials_are_always_live(server_app) -> None:
    assert await actor_is_live(server_app.state, ANONYMOUS)
    assert await actor_is_live(server_app.state, SYSTEM)


async def test_session_expiry_ends_liveness(client, server_app, frozen_clock) -> None:
    actor = await authenticate_token(server_app.state, client.token)
    assert actor is not None
    frozen_clock.offset += 30 * 24 * 3600 + 1
    assert not await actor_is_live(server_app.state, actor)
