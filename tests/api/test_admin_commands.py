"""``mstack admin``: accounts from the shell, on the same database the server uses."""

import asyncio

from click.testing import CliRunner

from mstack_client.cli import main
from tests.conftest import FAST_PASSWORDS, PASSWORD


def run(settings, *args: str, stdin: str | None = None):
    env = {"MSTACK_DATA_DIR": str(settings.data_dir), "MSTACK_DATABASE_URL": settings.db_url}
    env.update({f"MSTACK_{k.upper()}": str(v) for k, v in FAST_PASSWORDS.items()})
    return CliRunner().invoke(main, list(args), input=stdin, env=env, catch_exceptions=False)


def test_create_user_and_manage_it(settings) -> None:
    made = run(
        settings,
        "admin", "create-user", "--email", "Root@Example.org", "--username", "root",
        "--role", "admin", "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert "root" in made.output
    assert "admin" in made.output
    assert PASSWORD not in made.output
    listed = run(settings, "admin", "list-users")
    assert "<Root@Example.org>" in listed.output
    moderator = run(
        settings,
        "admin", "create-user", "--email", "m@example.org", "--username", "mod",
        "--role", "moderator",
        stdin=f"{PASSWORD}\n{PASSWORD}\n",  # prompted twice: typed and confirmed
    )  # fmt: skip
    assert moderator.exit_code == 0, moderator.output
    assert run(settings, "admin", "set-role", "M@EXAMPLE.ORG", "user").exit_code == 0
    assert "user" in run(settings, "admin", "list-users", "--role", "user").output
    assert run(settings, "admin", "disable", "mod").exit_code == 0
    assert "(disabled)" in run(settings, "admin", "list-users").output
    assert run(settings, "admin", "enable", "mod").exit_code == 0
    pruned = run(settings, "admin", "prune-sessions", "--days", "0")
    assert pruned.exit_code == 0
    assert "deleted 0 ended sessions" in pruned.output
    ended = run(settings, "admin", "revoke-sessions", "mod")
    assert ended.exit_code == 0
    assert "ended 0 sessions" in ended.output


def test_refusals_are_plain_messages(settings) -> None:
    weak = run(
        settings,
        "admin", "create-user", "--email", "a@example.org", "--username", "ann",
        "--password-stdin",
        stdin="short\n",
    )  # fmt: skip
    assert weak.exit_code == 1
    assert "at least 10 characters" in weak.output
    assert "Traceback" not in weak.output
    missing = run(settings, "admin", "disable", "nobody")
    assert missing.exit_code == 1
    assert "no user" in missing.output
    lone = run(
        settings,
        "admin", "create-user", "--email", "r@example.org", "--username", "root",
        "--role", "admin", "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert lone.exit_code == 0
    last = run(settings, "admin", "set-role", "root", "user")
    assert last.exit_code == 1
    assert "last enabled admin" in last.output


async def test_a_user_made_in_the_shell_signs_in(settings, anon_client) -> None:
    made = await asyncio.to_thread(  # the command runs its own event loop
        run,
        settings,
        "admin", "create-user", "--email", "g@example.org", "--username", "gina",
        "--role", "guest", "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert made.exit_code == 0
    reply = await anon_client.post(
        "/api/v1/auth/login", json={"email": "G@example.org", "password": PASSWORD}
    )
    assert reply.status_code == 200
    me = await anon_client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {reply.json()['access_token']}"}
    )
    assert me.json()["role"] == "guest"
