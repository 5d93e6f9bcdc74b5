"""What every client command shares: the server, the credentials, output and errors."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from mstack_client._core import DEFAULT_URL
from mstack_client._generated.sdk.client import Client
from mstack_client.config import Credentials, find_login, normalize_url
from mstack_client.errors import ApiError, MstackError, NotSignedIn, Unauthorized

F = TypeVar("F", bound=Callable[..., Any])


def _console(file: Any) -> Console:
    # Piped output is for other programs: wide enough that ids and CIDs are never cut.
    terminal = hasattr(file, "isatty") and file.isatty()
    return Console(file=file, width=None if terminal else 200, soft_wrap=not terminal)


@dataclass
class State:
    """The root group's options, shared with every subcommand through ``ctx.obj``."""

    server_option: str | None = None
    json: bool = False
    credentials: Credentials = field(default_factory=Credentials)

    @property
    def server(self) -> str:
        """``--server`` or ``MSTACK_URL``, else the server last signed in to, else the local one."""
        return normalize_url(self.server_option or self.credentials.default_server() or DEFAULT_URL)

    def client(self) -> Client:
        """A client for the server with the stored credentials (or ``MSTACK_API_KEY``)."""
        login = find_login(self.server, self.credentials, store=True)  # as Client() does
        return Client(
            login.url, api_key=login.api_key, token_store=login.token_store, use_env=False
        )

    @property
    def out(self) -> Console:
        return _console(sys.stdout)

    @property
    def err(self) -> Console:
        return _console(sys.stderr)

    def emit(self, data: Any, human: Callable[[], None]) -> None:
        """Print ``data`` as JSON with ``--json``; otherwise run the human rendering."""
        if self.json:
            click.echo(json.dumps(data, indent=2, default=_jsonable, ensure_ascii=False))
        else:
            human()


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def state() -> State:
    ctx = click.get_current_context()
    obj = ctx.find_root().obj
    if not isinstance(obj, State):
        obj = ctx.find_root().obj = State()
    return obj


def _set_json(ctx: click.Context, _: click.Parameter, value: bool) -> bool:
    if value:
        state().json = True
    return value


json_option = click.option(
    "--json",
    "as_json",
    is_flag=True,
    expose_value=False,
    callback=_set_json,
    help="Print the result as JSON (for scripts).",
)


def describe(exc: BaseException, server: str | None = None, *, hint: bool = True) -> str:
    """One line a person can act on (``hint``: say how to sign in when that is the problem)."""
    if isinstance(exc, Unauthorized | NotSignedIn):
        where = f" to {server}" if server else ""
        return f"{exc.detail}" + (f" (sign in{where} with `mstack login`)" if hint else "")
    if isinstance(exc, ApiError):
        return f"{exc.detail} ({exc.status})"
    if isinstance(exc, MstackError):
        return exc.detail
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc) or type(exc).__name__


def error_dict(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, MstackError):
        return exc.to_dict()
    return {"error": type(exc).__name__, "detail": describe(exc)}


def fail(exc: BaseException, *, code: int = 1) -> None:
    """Report an error on one line (JSON with ``--json``) and exit non-zero."""
    st = state()
    try:
        server: str | None = st.server
    except OSError:
        server = None
    if st.json:
        click.echo(json.dumps(error_dict(exc), default=_jsonable, ensure_ascii=False), err=True)
    else:
        signing_in = click.get_current_context().invoked_subcommand == "login"
        click.echo(f"error: {describe(exc, server, hint=not signing_in)}", err=True)
    sys.exit(code)


def print_table(
    headers: list[str], rows: list[list[str]], *, right: frozenset[str] = frozenset()
) -> None:
    """Aligned columns without trailing spaces: readable, and easy to ``cut`` or ``awk``."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]

    def line(cells: list[str], style: bool = False) -> str:
        parts = [
            c.rjust(w) if h in right else c.ljust(w)
            for c, w, h in zip(cells, widths, headers, strict=True)
        ]
        text = "  ".join(parts).rstrip()
        return click.style(text, bold=True) if style else text

    click.echo(line(headers, style=True))
    for row in rows:
        click.echo(line(row))


def human_size(size: int | None) -> str:
    if size is None:
        return "?"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def more_hint(next_cursor: str) -> None:
    """Say how to get the next page: this very command again, with ``--cursor`` (one form
    for every list command, on standard error so the page itself stays clean)."""
    ctx = click.get_current_context()
    words = ["mstack", *ctx.command_path.split()[1:]]
    options: list[str] = []
    for param in ctx.command.params:
        if not param.expose_value or param.name in (None, "cursor"):
            continue
        value = ctx.params.get(param.name)
        if isinstance(param, click.Argument):
            words += [str(v) for v in value] if isinstance(value, tuple) else [str(value)]
        elif isinstance(param, click.Option):
            options += _option_words(param, value)
    words += options
    words += ["--cursor", next_cursor]
    click.echo("more: " + " ".join(shlex.quote(w) for w in words), err=True)


def _option_words(option: click.Option, value: Any) -> list[str]:
    if value is None or value == () or value == option.default:
        return []
    name = max(option.opts, key=len)
    if option.is_flag:
        if value is True:
            return [name]
        return [max(option.secondary_opts, key=len)] if option.secondary_opts else []
    values = value if isinstance(value, tuple) else (value,)
    return [word for v in values for word in (name, _as_typed(option, v))]


def _as_typed(option: click.Option, value: Any) -> str:
    """A value as it is typed: a choice the command got in the API's spelling
    (``name_full``) shown as the option lists it (``name-full``)."""
    text = str(value)
    if isinstance(option.type, click.Choice) and text not in option.type.choices:
        kebab = text.replace("_", "-")
        if kebab in option.type.choices:
            return kebab
    return text
