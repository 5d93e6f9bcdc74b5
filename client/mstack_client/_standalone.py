"""How every ``mstack`` command ends, the client's and the server's alike: errors in one
form (``error: ...``, as the client's own failures print), and quiet when the program
reading its output has gone (``mstack ... --help | head``).

Imports only Click: ``mstack_client._launch`` runs server commands through it before
anything else is loaded.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import click

PREFIX = "error: "


def whole_summaries(command: click.Command) -> click.Command:
    """Give ``command`` and those under it their help's whole first sentence as the summary
    a group lists, where Click would cut it at the width left (45 characters and "..." by
    default); the list wraps it onto further lines instead. Returns ``command``."""
    if command.short_help is None and command.help:
        command.short_help = first_sentence(command.help)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            whole_summaries(sub)
    return command


def show(exc: click.ClickException) -> None:
    """What Click's ``show`` prints, with the one error prefix of every ``mstack`` command."""
    if isinstance(exc, click.UsageError) and exc.ctx is not None:
        ctx = exc.ctx
        hint = ""
        if ctx.command.get_help_option(ctx) is not None:
            names = ctx.command.get_help_option_names(ctx)
            hint = f"Try '{ctx.command_path} {max(names, key=len)}' for help.\n"
        click.echo(f"{ctx.get_usage()}\n{hint}", err=True, color=ctx.color)
    click.echo(PREFIX + exc.format_message(), err=True)


def first_sentence(text: str) -> str:
    """The first sentence of a help text (of its first paragraph, up to a word ending in a
    full stop), on one line."""
    paragraph = inspect.cleandoc(text).split("\f", 1)[0].split("\n\n", 1)[0]
    words: list[str] = []
    for word in paragraph.replace("\b", "").split():
        words.append(word)
        if word.endswith("."):
            break
    return " ".join(words)


def standalone(main: Callable[[], Any]) -> NoReturn:
    """Run ``main`` (a Click ``main`` with ``standalone_mode=False``) as Click's standalone
    mode does, printing errors with :data:`PREFIX`; exit with its status."""
    try:
        try:
            result = main()
        except click.ClickException as exc:
            show(exc)
            code = exc.exit_code
        except click.Abort:
            click.echo("Aborted!", err=True)
            code = 1
        else:
            # a command's return value, or the status of an explicit ``ctx.exit(n)``
            code = result if isinstance(result, int) and not isinstance(result, bool) else 0
        sys.stdout.flush()
    except BrokenPipeError:
        _drop_stdout()
        code = 1
    sys.exit(code)


def _drop_stdout() -> None:
    """The reader has gone: send what is left to /dev/null, so that the interpreter's last
    flush does not print a ``BrokenPipeError`` on the way out."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
