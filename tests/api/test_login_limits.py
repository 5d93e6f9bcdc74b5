"""Repeated sign-in failures are slowed: 429 with Retry-After, per account and per address."""

from tests.conftest import PASSWORD


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
