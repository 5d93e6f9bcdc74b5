"""``mstack login``, ``logout`` and ``whoami``."""

from __future__ import annotations

import sys

import click

from mstack_client._generated.sdk.client import Client
from mstack_client.cli._context import json_option, state
from mstack_client.config import FileTokenStore
from mstack_client.errors import MstackError, NotSignedIn, Unauthorized
from mstack_client.models import User


def _read_secret(what: str, from_stdin: bool) -> str:
    """A secret from standard input (scripts) or a hidden prompt (people); never an argument."""
    if from_stdin or not sys.stdin.isatty():
        line = sys.stdin.readline()
        secret = line.rstrip("\r\n")
        if not secret:
            raise click.UsageError(f"no {what} on standard input")
        return secret
    return str(click.prompt(what.capitalize(), hide_input=True))


def _user_line(user: User, server: str) -> str:
    name = user.username or user.email or user.id
    extra = f" <{user.email}>" if user.email and user.email != name else ""
    role = f" ({user.role})" if user.role else ""
    return f"{name}{extra}{role} on {server}"


@click.command()
@click.option("--email", help="Sign in with this email.")
@click.option("--username", help="Sign in with this username.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (scripts)."
)
@click.option(
    "--api-key",
    "use_key",
    is_flag=True,
    help="Sign in with an API key, read from standard input or a hidden prompt.",
)
@json_option
def login(email: str | None, username: str | None, password_stdin: bool, use_key: bool) -> None:
    """Sign in and keep the session (or API key) in your config folder, readable by you alone.

    Without options it asks for your email or username and your password.
    """
    st = state()
    url = st.server
    if use_key:
        if email or username or password_stdin:
            raise click.UsageError("--api-key signs in without --email, --username or a password")
        key = _read_secret("API key", from_stdin=False)
        with Client(url, api_key=key) as client:
            user = client.me()  # the key is stored only once the server has accepted it
        st.credentials.set_server(url, {"api_key": key}, make_default=True)
    else:
        if email and username:
            raise click.UsageError("give --email or --username, not both")
        if not email and not username:
            if password_stdin:
                raise click.UsageError("--password-stdin needs --email or --username")
            who = str(click.prompt("Email or username")).strip()
            email, username = (who, None) if "@" in who else (None, who)
        password = _read_secret("password", from_stdin=password_stdin)
        store = FileTokenStore(st.credentials, url)
        with Client(url, token_store=store) as client:
            client.login(email=email, username=username, password=password)
            user = client.me()
        st.credentials.set_server(url, st.credentials.server(url), make_default=True)
    st.emit(
        {"server": url, "user": user.raw},
        lambda: click.echo(f"signed in as {_user_line(user, url)}"),
    )


@click.command()
@click.option("--email", required=True, help="The account's email address.")
@click.option("--username", required=True, help="The account's username.")
@click.option("--display-name", help="A name to show instead of the username.")
@click.option("--phone", help="A phone number, with + and the country code.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (scripts)."
)
@click.option(
    "--login/--no-login",
    "sign_in",
    default=True,
    show_default=True,
    help="Sign in to the new account, as `mstack login` does.",
)
@json_option
def register(
    email: str,
    username: str,
    display_name: str | None,
    phone: str | None,
    password_stdin: bool,
    sign_in: bool,
) -> None:
    """Create an account on the server, then sign in to it.

    The password is asked for twice (or read from standard input), never taken as an
    argument.
    """
    st = state()
    url = st.server
    if password_stdin or not sys.stdin.isatty():
        password = _read_secret("password", from_stdin=True)
    else:
        password = str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    with Client(url) as client:
        user = client.register(
            email=email,
            username=username,
            password=password,
            display_name=display_name,
            phone=phone,
        )
    if sign_in:
        store = FileTokenStore(st.credentials, url)
        with Client(url, token_store=store) as client:
            client.login(username=username, password=password)
        st.credentials.set_server(url, st.credentials.server(url), make_default=True)
    st.emit(
        {"server": url, "user": user.raw, "signed_in": sign_in},
        lambda: click.echo(
            f"registered {_user_line(user, url)}"
            + ("; signed in" if sign_in else "; sign in with `mstack login`")
        ),
    )


@click.command()
@json_option
def logout() -> None:
    """End the session on the server and forget the stored credentials."""
    st = state()
    url = st.server
    entry = st.credentials.server(url)
    if not entry:
        st.emit({"server": url, "signed_out": False}, lambda: click.echo(f"not signed in to {url}"))
        return
    problem: MstackError | None = None
    if entry.get("tokens"):
        with st.client() as client:
            try:
                client.logout()
            except MstackError as exc:
                problem = exc  # forgotten here all the same; the session ends when it expires
    st.credentials.set_server(url, None)
    st.emit(
        {"server": url, "signed_out": True, "server_error": problem.detail if problem else None},
        lambda: click.echo(
            f"signed out of {url}"
            + (f" (the server was not told: {problem.detail})" if problem else "")
        ),
    )


@click.command()
@json_option
def whoami() -> None:
    """Show who you are signed in as."""
    st = state()
    url = st.server
    with st.client() as client:
        if not client.signed_in:
            raise NotSignedIn(f"not signed in to {url}")
        try:
            user = client.me()
        except Unauthorized as exc:
            raise Unauthorized(
                f"the stored credentials for {url} are no longer valid",
                status=401,
                problem=exc.problem,
            ) from None
    st.emit({"server": url, "user": user.raw}, lambda: click.echo(_user_line(user, url)))


COMMANDS = [login, logout, register, whoami]
