"""Registration, sign-in, the account itself, and the seed backlog's account items."""

import logging

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import func, select

from mcore.auth.models import AuthSession, User
from mcore.clock import utcnow
from tests.conftest import PASSWORD

PROBLEM = "application/problem+json"


async def count(db, model, *where) -> int:
    async with db.session() as session:
        return (await session.exec(select(func.count()).select_from(model).where(*where))).one()


def register(email: str, username: str, password: str = PASSWORD, **extra) -> dict:
    return {"email": email, "username": username, "password": password, **extra}


async def test_register_first_account_becomes_admin_then_users(anon_client, db) -> None:
    first = await anon_client.post("/api/v1/auth/register", json=register("a@x.org", "alice"))
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["role"] == "admin"
    assert body["email"] == "a@x.org"
    assert body["username"] == "alice"
    assert "password" not in first.text
    assert "hash" not in first.text
    second = await anon_client.post("/api/v1/auth/register", json=register("b@x.org", "bob"))
    assert second.status_code == 201
    assert second.json()["role"] == "user"
    assert await count(db, User) == 2


async def test_first_user_admin_can_be_turned_off(make_client, settings, server_app) -> None:
    server_app.state.auth.settings = settings.model_copy(update={"first_user_admin": False})
    anon = await make_client(None)
    reply = await anon.post("/api/v1/auth/register", json=register("a@x.org", "alice"))
    assert reply.status_code == 201
    assert reply.json()["role"] == "user"


async def test_registration_can_be_closed(make_client, settings, server_app, db) -> None:
    server_app.state.auth.settings = settings.model_copy(update={"allow_registration": False})
    anon = await make_client(None)
    reply = await anon.post("/api/v1/auth/register", json=register("a@x.org", "alice"))
    assert reply.status_code == 403
    assert reply.headers["content-type"] == PROBLEM
    assert "registration is closed" in reply.json()["detail"]
    assert await count(db, User) == 0


async def test_unique_emails_regardless_of_case(anon_client, db) -> None:
    assert (
        await anon_client.post("/api/v1/auth/register", json=register("Ann@X.org", "ann"))
    ).status_code == 201
    again = await anon_client.post("/api/v1/auth/register", json=register("ann@x.ORG", "ann2"))
    assert again.status_code == 409
    assert again.json()["errors"] == [
        {"field": "email", "message": "an account with this email address already exists"}
    ]
    assert await count(db, User) == 1
    # One account: it signs in with either spelling, and keeps the one it registered with.
    login = await anon_client.post(
        "/api/v1/auth/login", json={"email": "ANN@x.org", "password": PASSWORD}
    )
    assert login.status_code == 200
    me = await anon_client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"}
    )
    assert me.json()["email"] == "Ann@X.org"


async def test_unique_email_is_enforced_by_the_database_not_only_by_code(db) -> None:
    now = utcnow()

    def row(ident: str, email: str, name: str) -> User:
        return User(
            id=ident,
            email=email,
            email_key=email.casefold(),
            username=name,
            username_key=name,
            password_hash="x",
            created_at=now,
            updated_at=now,
        )

    async def insert(*rows: User) -> None:
        async with db.session(write=True) as session:
            session.add_all(rows)

    # Same case-folded email, then same case-folded username: the unique index refuses.
    with pytest.raises(IntegrityError):
        await insert(
            row("01" + "a" * 24, "Ann@X.org", "ann"), row("01" + "b" * 24, "ann@x.org", "b")
        )
    with pytest.raises(IntegrityError):
        await insert(row("01" + "a" * 24, "a@x.org", "Ann"), row("01" + "b" * 24, "b@x.org", "Ann"))
    assert await count(db, User) == 0


async def test_unique_usernames_and_phones(anon_client, db) -> None:
    ok = await anon_client.post(
        "/api/v1/auth/register", json=register("a@x.org", "Alice", phone="+33 6 12 34 56 78")
    )
    assert ok.status_code == 201
    assert ok.json()["phone"] == "+33612345678"  # normalised to E.164
    taken = await anon_client.post("/api/v1/auth/register", json=register("b@x.org", "ALICE"))
    assert taken.status_code == 409
    assert taken.json()["errors"][0]["field"] == "username"
    phone = await anon_client.post(
        "/api/v1/auth/register", json=register("c@x.org", "carol", phone="+33612345678")
    )
    assert phone.status_code == 409
    assert phone.json()["errors"][0]["field"] == "phone"
    assert await count(db, User) == 1


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (register("a@x.org", "alice", "short"), "password", "at least 10"),
        (register("a@x.org", "alice", "p" * 257), "password", "at most 256"),
        (register("a@x.org", "alice", "1234567890"), "password", "commonly used"),
        (register("a@x.org", "alice", "A@X.ORG"), "password", "at least 10"),
        (register("alice@example.org", "alice", "ALICE@example.org"), "password", "email"),
        (register("a@x.org", "alice-in-wonder", "Alice-In-Wonder"), "password", "username"),
        (register("a@x.org", "alice", " " * 12), "password", "too easy to guess"),
        (register("a@x.org", "alice", "\x00" * 12), "password", "control characters"),
        (register("a@x.org", "alice", "a" * 12), "password", "too easy to guess"),
        (register("a@x.org", "alice", "tab\tinside the password"), "password", "control"),
        (register("a@x.org", "annsmith", "annsmith-is-me-2024"), "password", "username"),
        (register("maren.okland@x.org", "mokland", "maren.okland rocks"), "password", "email"),
        (register("not an email", "alice"), "email", "not an email"),
        (register("a@x.org", "al"), "username", "3 to 32"),
        (register("a@x.org", "a@b"), "username", "letters, digits"),
        (register("a@x.org", "alice", phone="12"), "phone", "not a valid phone"),
        (register("a@x.org", "alice", display_name="x" * 101), "display_name", "at most 100"),
    ],
)
async def test_registration_refusals_say_which_rule(anon_client, db, body, field, words) -> None:
    reply = await anon_client.post("/api/v1/auth/register", json=body)
    assert reply.status_code == 422, reply.text
    assert reply.headers["content-type"] == PROBLEM
    problem = reply.json()
    assert words in problem["detail"]
    assert problem["errors"][0]["field"] == field
    assert body["password"] not in reply.text
    assert await count(db, User) == 0


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email": "a@x.org"},
        {"email": "a@x.org", "username": "alice"},
        {"email": 5, "username": "alice", "password": PASSWORD},
        "not json",
    ],
)
async def test_malformed_registrations_are_4xx(anon_client, db, body) -> None:
    if isinstance(body, str):
        reply = await anon_client.post(
            "/api/v1/auth/register", content=body, headers={"content-type": "application/json"}
        )
    else:
        reply = await anon_client.post("/api/v1/auth/register", json=body)
    assert 400 <= reply.status_code < 500
    assert reply.headers["content-type"] == PROBLEM
    assert await count(db, User) == 0


# --- the login procedure (seed backlog) -------------------------------------------------


async def test_login_procedure(anon_client, db) -> None:
    reg = await anon_client.post(
        "/api/v1/auth/register", json=register("ann@x.org", "ann", "a very good password")
    )
    user_id = reg.json()["id"]
    by_email = await anon_client.post(
        "/api/v1/auth/login", json={"email": "ann@x.org", "password": "a very good password"}
    )
    assert by_email.status_code == 200
    tokens = by_email.json()
    assert set(tokens) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 15 * 60
    by_username = await anon_client.post(
        "/api/v1/auth/login", json={"username": "ANN", "password": "a very good password"}
    )
    assert by_username.status_code == 200
    assert await count(db, AuthSession, AuthSession.user_id == user_id) == 2
    me = await anon_client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["id"] == user_id
    assert me.json()["last_login_at"] is not None


async def test_wrong_password_and_unknown_email_get_the_same_answer(
    client, anon_client, server_app, db
) -> None:
    passwords = server_app.state.auth.passwords
    before = passwords.verifications
    wrong = await anon_client.post(
        "/api/v1/auth/login", json={"email": client.email, "password": "not the password"}
    )
    unknown = await anon_client.post(
        "/api/v1/auth/login", json={"email": "nobody@x.org", "password": "not the password"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.headers["www-authenticate"] == unknown.headers["www-authenticate"]
    # The same work either way: one argon2 verification each (against a dummy hash for
    # the unknown account), which is what makes them take the same time.
    assert passwords.verifications == before + 2
    assert await count(db, AuthSession) == 1  # only the client's own sign-in


@pytest.mark.parametrize(
    "body",
    [
        {"password": PASSWORD},
        {"email": "a@x.org", "username": "ann", "password": PASSWORD},
        {"email": "a@x.org"},
    ],
)
async def test_login_needs_exactly_one_name_and_a_password(anon_client, body) -> None:
    reply = await anon_client.post("/api/v1/auth/login", json=body)
    assert reply.status_code in (400, 422)
    assert reply.headers["content-type"] == PROBLEM


async def test_disabled_user_cannot_sign_in(make_client, anon_client) -> None:
    admin = await make_client("admin")
    user = await make_client("user")
    assert (await admin.post(f"/api/v1/admin/users/{user.user_id}/disable")).status_code == 200
    reply = await anon_client.post(
        "/api/v1/auth/login", json={"username": user.username, "password": PASSWORD}
    )
    assert reply.status_code == 401
    assert "disabled" in reply.json()["detail"]


async def test_login_rehashes_when_parameters_change(client, server_app, settings, db) -> None:
    from mcore.auth.passwords import Passwords

    async with db.session() as session:
        old_hash = (await session.get(User, client.user_id)).password_hash
    assert "m=64," in old_hash
    auth = server_app.state.auth
    auth.passwords = Passwords(settings.model_copy(update={"argon2_memory_cost": 96}))
    reply = await client.post(
        "/api/v1/auth/login", json={"username": client.username, "password": PASSWORD}
    )
    assert reply.status_code == 200
    async with db.session() as session:
        new_hash = (await session.get(User, client.user_id)).password_hash
    assert "m=96," in new_hash
    assert new_hash != old_hash
    reply = await client.post(
        "/api/v1/auth/login", json={"username": client.username, "password": PASSWORD}
    )
    assert reply.status_code == 200
    auth.passwords.close()


# --- me and password ----------------------------------------------------------------------


async def test_me_read_and_update(client, make_client, db) -> None:
    reply = await client.patch(
        "/api/v1/auth/me",
        json={"display_name": "  Ann Lee ", "phone": "+1 650 253 0000", "username": "ann-lee"},
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["display_name"] == "Ann Lee"
    assert reply.json()["phone"] == "+16502530000"
    assert reply.json()["username"] == "ann-lee"
    reply = await client.patch("/api/v1/auth/me", json={"phone": None})
    assert reply.json()["phone"] is None
    other = await make_client("user")
    taken = await client.patch("/api/v1/auth/me", json={"email": other.email.upper()})
    assert taken.status_code == 409
    async with db.session() as session:
        assert (await session.get(User, client.user_id)).email == client.email


async def test_me_needs_an_account(anon_client) -> None:
    reply = await anon_client.get("/api/v1/auth/me")
    assert reply.status_code == 401
    assert reply.headers["content-type"] == PROBLEM


async def test_change_password_ends_other_sessions(client, anon_client, db) -> None:
    elsewhere = await anon_client.post(
        "/api/v1/auth/login", json={"username": client.username, "password": PASSWORD}
    )
    other_token = elsewhere.json()["access_token"]
    wrong = await client.post(
        "/api/v1/auth/password",
        json={"current_password": "not my password", "new_password": "a brand new password"},
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "current_password"
    weak = await client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "short"},
    )
    assert weak.status_code == 422
    assert weak.json()["errors"][0]["field"] == "new_password"
    ok = await client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "a brand new password"},
    )
    assert ok.status_code == 204
    assert (await client.get("/api/v1/auth/me")).status_code == 200  # this session stays
    refused = await anon_client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {other_token}"}
    )
    assert refused.status_code == 401  # the other one ended
    old = await anon_client.post(
        "/api/v1/auth/login", json={"username": client.username, "password": PASSWORD}
    )
    assert old.status_code == 401
    new = await anon_client.post(
        "/api/v1/auth/login",
        json={"username": client.username, "password": "a brand new password"},
    )
    assert new.status_code == 200


async def test_no_secret_reaches_the_logs(client, anon_client, caplog, frozen_clock) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = [PASSWORD, client.token, client.refresh_token]
    await anon_client.post(
        "/api/v1/auth/login", json={"username": client.username, "password": "wrong password!"}
    )
    login = await anon_client.post(
        "/api/v1/auth/login", json={"username": client.username, "password": PASSWORD}
    )
    secrets += [login.json()["access_token"], login.json()["refresh_token"]]
    refreshed = await anon_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": login.json()["refresh_token"]}
    )
    frozen_clock.offset += 31  # past refresh_grace_period
    await anon_client.post(  # a reuse, which is logged as a warning
        "/api/v1/auth/refresh", json={"refresh_token": login.json()["refresh_token"]}
    )
    secrets += [refreshed.json()["refresh_token"]]
    key = await client.post("/api/v1/auth/keys", json={"name": "k", "scopes": ["files:read"]})
    secrets.append(key.json()["key"])
    await anon_client.get("/api/v1/auth/me", headers={"Authorization": "Bearer " + "x" * 40})
    text = "\n".join(r.getMessage() + str(r.args) for r in caplog.records)
    assert "refresh token was presented" in text  # the reuse was logged...
    for secret in secrets:
        assert secret not in text  # ...but no secret ever is
