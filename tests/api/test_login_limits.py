"""Sign-in guessing is slowed, never turned into a lockout (OWASP's advice): growing waits
per account and address, a limit on the accounts one address may fail on, and an event
that tells the owner. Refusals are 429 with Retry-After."""

from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import httpx
import pytest
from sqlmodel import col, select

from mcore.auth.throttle import ThrottlePolicy
from mcore.events import Event
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


@pytest.fixture
async def from_address(server_app) -> AsyncIterator[Callable[[str], httpx.AsyncClient]]:
    """``from_address("203.0.113.5")``: an anonymous client whose requests come from there."""
    clients: list[httpx.AsyncClient] = []

    def make(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=server_app, client=(address, 40000))
        http = httpx.AsyncClient(transport=transport, base_url="http://mstack.test")
        clients.append(http)
        return http

    yield make
    for http in clients:
        await http.aclose()


def tune(server_app, settings: Settings, **changes: object) -> None:
    """Change the throttle's numbers on the running app."""
    server_app.state.auth.settings = changed = settings.model_copy(update=changes)
    server_app.state.auth.throttle.policy = ThrottlePolicy.of(changed)


async def test_the_owner_signs_in_from_elsewhere_while_someone_guesses(
    client, from_address, frozen_clock
) -> None:
    """The lockout the attacker's attempt found: five wrong passwords from anywhere used to
    refuse the right one from everywhere for 15 minutes."""
    frozen_clock.frozen = frozen_clock.time()
    attacker, owner = from_address("198.51.100.66"), from_address("203.0.113.10")
    codes = await fail(attacker, client.username, 8)
    assert codes == [401] * 5 + [429] * 3
    signed_in = await owner.post(
        "/api/v1/auth/login", json={"username": client.username, "password": PASSWORD}
    )
    assert signed_in.status_code == 200
    by_email = await owner.post(
        "/api/v1/auth/login", json={"email": client.email, "password": PASSWORD}
    )
    assert by_email.status_code == 200
    # The attacker's own address still waits, whatever name it gives the account by.
    again = await attacker.post(
        "/api/v1/auth/login", json={"email": client.email.upper(), "password": PASSWORD}
    )
    assert again.status_code == 429


async def test_failures_from_one_address_wait_longer_and_longer(
    client, from_address, frozen_clock
) -> None:
    frozen_clock.frozen = frozen_clock.time()
    here = from_address("203.0.113.7")
    assert await fail(here, client.username, 5) == [401] * 5
    waits = []
    for _ in range(5):
        blocked = await here.post(
            "/api/v1/auth/login", json={"username": client.username, "password": PASSWORD}
        )
        assert blocked.status_code == 429  # even the right password, from here, waits
        assert blocked.headers["content-type"] == "application/problem+json"
        wait = int(blocked.headers["retry-after"])
        assert f"try again in {wait} seconds" in blocked.json()["detail"]
        waits.append(wait)
        frozen_clock.frozen += wait
        assert await fail(here, client.username, 1) == [401]  # one more guess, after the wait
    assert waits == [1, 2, 4, 8, 16]
    frozen_clock.frozen += 32
    ok = await here.post(
        "/api/v1/auth/login", json={"username": client.username, "password": PASSWORD}
    )
    assert ok.status_code == 200
    assert await fail(here, client.username, 5) == [401] * 5  # a success starts afresh


async def test_waits_stop_growing_and_are_forgotten(
    client, from_address, server_app, settings, frozen_clock
) -> None:
    frozen_clock.frozen = frozen_clock.time()
    tune(server_app, settings, login_backoff_base=timedelta(minutes=10))
    here = from_address("203.0.113.8")
    assert await fail(here, client.username, 5) == [401] * 5
    waits = []
    for _ in range(3):
        blocked = await here.post(
            "/api/v1/auth/login", json={"username": client.username, "password": "x"}
        )
        waits.append(int(blocked.headers["retry-after"]))
        frozen_clock.frozen += waits[-1]
        assert await fail(here, client.username, 1) == [401]
    assert waits == [600, 900, 900]  # at most login_backoff_max
    frozen_clock.frozen += 900 + 15 * 60  # the last wait, then the window: forgotten
    assert await fail(here, client.username, 5) == [401] * 5


async def test_unknown_accounts_are_throttled_the_same(from_address, frozen_clock) -> None:
    frozen_clock.frozen = frozen_clock.time()
    assert await fail(from_address("203.0.113.9"), "nobody-here", 6) == [401] * 5 + [429]


async def test_one_address_cannot_spray_many_accounts(
    from_address, server_app, settings, frozen_clock
) -> None:
    frozen_clock.frozen = frozen_clock.time()
    tune(server_app, settings, login_max_accounts_per_address=8)
    sprayer = from_address("198.51.100.7")
    codes = []
    for i in range(9):  # a different account each time: only the address repeats
        codes += await fail(sprayer, f"someone-{i}", 1)
    assert codes == [401] * 8 + [429]
    blocked = await sprayer.post(
        "/api/v1/auth/login", json={"username": "someone-new", "password": "a guess"}
    )
    assert "different accounts failed to sign in from your address" in blocked.json()["detail"]
    assert int(blocked.headers["retry-after"]) == 15 * 60
    assert await fail(sprayer, "someone-0", 1) == [401]  # its own count on an account it tried
    assert await fail(from_address("203.0.113.20"), "someone-new", 1) == [401]  # others: not
    frozen_clock.frozen += 15 * 60 + 1
    assert await fail(sprayer, "someone-new", 1) == [401]


async def test_many_people_behind_one_address_are_not_blocked(
    make_client, from_address, server_app, frozen_clock
) -> None:
    """Thirty mistakes behind one NAT or proxy (ten people, three each) used to refuse
    everyone behind it; now each account and address pair counts for itself."""
    frozen_clock.frozen = frozen_clock.time()
    office = from_address("192.0.2.1")
    users = [await make_client("user", username=f"colleague-{i}") for i in range(11)]
    for user in users[:10]:
        assert await fail(office, user.username, 3) == [401] * 3
    for user in users:
        signed_in = await office.post(
            "/api/v1/auth/login", json={"username": user.username, "password": PASSWORD}
        )
        assert signed_in.status_code == 200


async def test_the_owner_is_told_once_per_interval(
    client, from_address, server_app, settings, db, frozen_clock
) -> None:
    frozen_clock.frozen = frozen_clock.time()
    tune(server_app, settings, login_alert_failures=7)

    async def told() -> list[Event]:
        async with db.session() as session:
            query = select(Event).where(col(Event.type) == "account.sign_in_failures")
            return list((await session.exec(query)).all())

    for address in ("198.51.100.1", "198.51.100.2"):  # six failures from two addresses
        await fail(from_address(address), client.username, 3)
    assert await told() == []
    await fail(from_address("198.51.100.3"), client.username, 1)  # the 7th overall
    events = await told()
    assert len(events) == 1
    assert events[0].user_id == client.user_id
    assert events[0].payload == {
        "failures": 7,
        "window_seconds": 900,
        "address": "198.51.100.3",
    }
    for i in range(4, 12):
        await fail(from_address(f"198.51.100.{i}"), client.username, 2)
    assert len(await told()) == 1  # rate-limited: no flood
    frozen_clock.frozen += 3600
    await fail(from_address("198.51.100.40"), client.username, 1)
    assert len(await told()) == 1  # a new window: 1 failure is below the threshold
    await fail(from_address("198.51.100.41"), client.username, 5)
    assert len(await told()) == 1
    await fail(from_address("198.51.100.42"), client.username, 1)  # the 7th of this window
    assert len(await told()) == 2


async def test_nobody_is_told_about_an_unknown_account(
    from_address, server_app, settings, db, frozen_clock
) -> None:
    frozen_clock.frozen = frozen_clock.time()
    tune(server_app, settings, login_alert_failures=2)
    await fail(from_address("198.51.100.1"), "nobody-here", 4)
    async with db.session() as session:
        assert (await session.exec(select(Event))).all() == []


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
            update={"login_max_accounts_per_address": 3, "forwarded_allow_ips": allowed}
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
