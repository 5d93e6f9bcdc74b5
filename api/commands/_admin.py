"""``mstack admin``: accounts from the shell (create users, set roles, disable, end sessions).

These act as the instance itself (``SYSTEM``). With Redis configured, the running servers
hear about a revocation at once; without it they notice within ``auth_cache_ttl``.
Passwords are read from a prompt or from standard input, never from the command line
(where other users of the machine could see them).
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from api.commands._common import run, settings_or_exit
from mcore.access import SYSTEM, Role

T = TypeVar("T")
ROLES = click.Choice([r.value for r in Role])


def _with_auth(fn: Callable[[Any, Any], Awaitable[T]]) -> T:
    """Run ``fn(session, auth)`` in one write transaction; domain errors become messages."""
    from mcore.auth import Auth
    from mcore.db import Database

    settings = settings_or_exit()

    async def act() -> T:
        db = Database(settings)
        auth = Auth(settings, db)
        try:
            async with db.session(write=True) as session:
                result = await fn(session, auth)
            await auth.flush()
            return result
        finally:
            await auth.close()
            await db.dispose()

    return run(act, domain_errors=True)


def _describe(user: Any) -> str:
    state = " (disabled)" if user.disabled else ""
    return f"{user.id}  {user.username}  <{user.email}>  {user.role}{state}"


@click.group()
def admin() -> None:
    """Manage accounts from the shell."""


@admin.command("create-user")
@click.option("--email", required=True, help="The account's email address.")
@click.option("--username", required=True, help="The account's username.")
@click.option("--role", type=ROLES, default="user", show_default=True)
@click.option("--display-name", help="A name to show instead of the username.")
@click.option("--phone", help="A phone number, with + and the country code.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (for scripts)."
)
def create_user(
    email: str,
    username: str,
    role: str,
    display_name: str | None,
    phone: str | None,
    password_stdin: bool,
) -> None:
    """Make an account with any role."""
    from mcore.auth import ops

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)

    async def run(session: Any, auth: Any) -> Any:
        return await ops.create_user(
            session,
            auth=auth,
            email=email,
            username=username,
            password=password,
            role=Role(role),
            display_name=display_name,
            phone=phone,
        )

    user = _with_auth(run)
    click.echo(f"created {_describe(user)}")


@admin.command("list-users")
@click.option("--role", type=ROLES, help="Only accounts with this role.")
def list_users(role: str | None) -> None:
    """List every account, newest first."""
    from mcore.auth import ops

    async def run(session: Any, auth: Any) -> list[Any]:
        users: list[Any] = []
        cursor = None
        while True:
            page = await ops.list_users(
                session, actor=SYSTEM, cursor=cursor, limit=200, role=Role(role) if role else None
            )
            users.extend(page.items)
            if page.next is None:
                return users
            cursor = page.next

    for user in _with_auth(run):
        click.echo(_describe(user))


@admin.command("set-role")
@click.argument("user")
@click.argument("role", type=ROLES)
def set_role(user: str, role: str) -> None:
    """Give USER (id, email or username) another ROLE."""
    from mcore.auth import ops

    async def run(session: Any, auth: Any) -> Any:
        found = await ops.find_user(session, actor=SYSTEM, name=user)
        return await ops.set_role(
            session, auth=auth, actor=SYSTEM, user_id=found.id, role=Role(role)
        )

    click.echo(f"updated {_describe(_with_auth(run))}")


def _set_disabled(user: str, disabled: bool) -> Any:
    from mcore.auth import ops

    async def run(session: Any, auth: Any) -> Any:
        found = await ops.find_user(session, actor=SYSTEM, name=user)
        return await ops.set_disabled(
            session, auth=auth, actor=SYSTEM, user_id=found.id, disabled=disabled
        )

    return _with_auth(run)


@admin.command("disable")
@click.argument("user")
def disable(user: str) -> None:
    """Disable USER (id, email or username): their sessions end, their keys stop working."""
    click.echo(f"disabled {_describe(_set_disabled(user, True))}")


@admin.command("enable")
@click.argument("user")
def enable(user: str) -> None:
    """Enable USER again (they sign in anew)."""
    click.echo(f"enabled {_describe(_set_disabled(user, False))}")


@admin.command("revoke-sessions")
@click.argument("user")
def revoke_sessions(user: str) -> None:
    """End every session of USER (id, email or username)."""
    from mcore.auth import ops

    async def run(session: Any, auth: Any) -> int:
        found = await ops.find_user(session, actor=SYSTEM, name=user)
        return await ops.revoke_user_sessions(session, auth=auth, actor=SYSTEM, user_id=found.id)

    click.echo(f"ended {_with_auth(run)} sessions")


@admin.command("prune-sessions")
@click.option(
    "--days",
    type=click.IntRange(min=0),
    default=7,
    show_default=True,
    help="Keep sessions that ended fewer than this many days ago.",
)
def prune_sessions(days: int) -> None:
    """Delete ended sessions (expired or revoked) and their refresh tokens."""
    from datetime import timedelta

    from mcore.auth import ops
    from mcore.clock import utcnow

    async def run(session: Any, auth: Any) -> int:
        return await ops.prune_sessions(session, before=utcnow() - timedelta(days=days))

    click.echo(f"deleted {_with_auth(run)} ended sessions")


@admin.command("demo-accounts")
def demo_accounts() -> None:
    """Make the demo accounts that standard input lists (what mstack seed runs).

    Standard input is a JSON list of {username, email, role, password, display_name}.
    An account that exists already (by username) is kept, with the role it is asked for;
    its password is not changed. Prints a JSON list of {username, id, role, created}.
    Refused unless the settings' mode is development: demo passwords are published.
    """
    import json

    from mcore.auth import ops
    from mcore.errors import NotFound

    settings = settings_or_exit()
    if settings.mode != "development":
        raise click.ClickException(
            "demo accounts are refused in production mode: their passwords are published"
        )
    try:
        wanted = json.loads(sys.stdin.read())
        accounts = [
            (str(a["username"]), str(a["email"]), Role(a["role"]), str(a["password"]), a)
            for a in wanted
        ]
    except (ValueError, TypeError, KeyError) as exc:
        raise click.ClickException(f"standard input is not a list of accounts: {exc}") from None

    async def run(session: Any, auth: Any) -> list[dict[str, Any]]:
        done = []
        for username, email, role, password, given in accounts:
            try:
                user = await ops.find_user(session, actor=SYSTEM, name=username)
                created = False
                if user.role != role:
                    user = await ops.set_role(
                        session, auth=auth, actor=SYSTEM, user_id=user.id, role=role
                    )
            except NotFound:
                user = await ops.create_user(
                    session,
                    auth=auth,
                    email=email,
                    username=username,
                    password=password,
                    role=role,
                    display_name=given.get("display_name"),
                )
                created = True
            done.append(
                {
                    "username": user.username,
                    "id": user.id,
                    "role": Role(user.role).value,
                    "created": created,
                }
            )
        return done

    click.echo(json.dumps(_with_auth(run)))
