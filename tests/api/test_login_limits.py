"""Repeated sign-in failures are slowed: 429 with Retry-After, per account and per address."""

import httpx
import pytest

from mcore.settings import Settings
from tests.conftest import PASSWORD, LiveServer


async def fail(http, username: str, n: int, password: str = "a wrong password") -> list[int]:
    codes = []
    for _ in range(n):
        reply = await http.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )
        codes.append(reply.status_code)
    return codes


async def test_account_is_slowed_after_five_failures(client, anon_client, frozen_clock) -> None:
    frozen_clock.frozen = frozen_clock.time()
    assert await fail(anon_client, client.username, 5) == [401] * 5
    blocked = await anon_client.post(
        "/api/v1/auth/login", json={"username": client.username, "password": PASSWORD}
    )
    assert blocked.status_code == 429  # even the right password waits
    assert blocked.headers["retry-after"] == str(15 * 60)
    assert blocked.headers["content-type"] == "application/problem+json"
    assert "try again in 900 seconds" in blocked.json()["detail"]
    # Other spellings of the same name are the same account.
    upper = await anon_client.post(
        "/api/v1/auth/login", json={"username": client.username.upper(), "password": PASSWORD}
    )
    assert upper.status_code == 429
    frozen_clock.frozen += 600
    again = await anon_client.post(
        "/api/v1/auth/login", json={"username": client.username, "password": PASSWORD}
    )
    assert again.status_code == 429
    assert again.headers["retry-after"] == "300"
    frozen_clock.frozen += 300
    ok = await anon_client.post(
        "/api/v1/auth/login", json={"username": client.username, "password": PASSWORD}
    )
    assert ok.status_code == 200


async def test_unknown_accounts_are_limited_the_same(anon_client, frozen_clock) -> None:
    frozen_clock.frozen = frozen_clock.time()
    assert await fail(anon_client, "nobody-here", 6) == [401] * 5 + [429]


async def test_success_clears_the_account_count(client, anon_client, frozen_clock) -> None:
    frozen_clock.frozen = frozen_clock.time()
    assert await fail(anon_client, client.username, 4) == [401] * 4
    await fail(anon_client, client.username, 1, PASSWORD)
    assert await fail(anon_client, client.username, 4) == [401] * 4  # counting starts again


async def test_one_address_is_slowed_across_accounts(
    anon_client, server_app, settings, frozen_clock
) -> None:
    frozen_clock.frozen = frozen_clock.time()
    server_app.state.auth.settings = settings.model_copy(
        update={"login_max_failures_per_address": 8}
    )
    codes = []
    for i in range(9):  # a different account each time: only the address repeats
        codes += await fail(anon_client, f"someone-{i}", 1)
    assert codes == [401] * 8 + [429]


async def test_wrong_current_password_is_limited_too(client, frozen_clock) -> None:
    frozen_clock.frozen = frozen_clock.time()
    body = {"current_password": "not my password", "new_password": "a brand new password"}
    codes = [(await client.post("/api/v1/auth/password", json=body)).status_code for _ in range(6)]
    assert codes == [422] * 5 + [429]


def _registration(i: int) -> dict[str, str]:
    return {"email": f"new-{i}@example.org", "username": f"new-{i}", "password": PASSWORD}


async def test_registrations_from_one_address_are_limited(
    anon_client, server_app, settings, frozen_clock
) -> None:
    frozen_clock.frozen = frozen_clock.time()
    server_app.state.auth.settings = settings.model_copy(update={"registrations_per_address": 3})
    register = "/api/v1/auth/register"
    mistake = await anon_client.post(register, json={**_registration(0), "email": "no"})
    assert mistake.status_code == 422  # a mistake is not an account: it does not count
    replies = [await anon_client.post(register, json=_registration(i)) for i in range(4)]
    codes = [r.status_code for r in replies]
    assert codes == [201, 201, 201, 429]
    blocked = await anon_client.post(register, json=_registration(9))
    assert blocked.headers["retry-after"] == "3600"
    assert "too many accounts were registered from your address" in blocked.json()["detail"]
    frozen_clock.frozen += 3600
    assert (await anon_client.post(register, json=_registration(9))).status_code == 201


@pytest.mark.parametrize("backend", ["sqlite"])  # about the HTTP server, not the database
@pytest.mark.parametrize("trusted", [True, False])
def test_limits_count_the_address_a_trusted_proxy_forwards(
    settings: Settings, trusted: bool
) -> None:
    """Through uvicorn as `mstack serve` runs it: behind a proxy on 127.0.0.1 (trusted by
    default) each client has its own count; with no proxy trusted, the header is ignored."""
    allowed = ["127.0.0.1"] if trusted else []
    server = LiveServer(
        settings.model_copy(
            update={"login_max_failures_per_address": 3, "forwarded_allow_ips": allowed}
        )
    )
    server.start()
    try:

        def login(client_address: str, username: str, password: str = "wrong") -> httpx.Response:
            return httpx.post(
                f"{server.url}/api/v1/auth/login",
                json={"username": username, "password": password},
                headers={"X-Forwarded-For": f"{client_address}, 127.0.0.1"},
            )

        codes = [login("203.0.113.7", f"someone-{i}").status_code for i in range(4)]
        assert codes == [401, 401, 401, 429]
        other = login("203.0.113.8", "someone-else").status_code
        assert other == (401 if trusted else 429)
        if trusted:
            signed_in = login("203.0.113.9", "live-user", PASSWORD)
            assert signed_in.status_code == 200
            token = signed_in.json()["access_token"]
            sessions = httpx.get(
                f"{server.url}/api/v1/auth/sessions",
                headers={"Authorization": f"Bearer {token}"},
            ).json()
            assert "203.0.113.9" in {s["address"] for s in sessions}
    finally:
        server.stop()
