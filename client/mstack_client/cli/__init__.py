"""The ``mstack`` command: the client's commands, plus whatever the server installs.

Installed distributions add commands through the ``mstack.commands`` entry-point group
(each entry point names one Click command, mounted under the entry point's name), so
``mstack --help`` shows what is installed: the client alone, or the server's too.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from functools import cached_property
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import click

from mstack_client._standalone import standalone, whole_summaries
from mstack_client.cli._context import State, describe, fail
from mstack_client.errors import MstackError

ENTRY_POINT_GROUP = "mstack.commands"


def _broken(ep: EntryPoint, exc: BaseException) -> click.Command:
    """A stand-in for a command that failed to load: says why, instead of a traceback."""
    reason = f"{type(exc).__name__}: {exc}"

    @click.command(
        ep.name,
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        add_help_option=False,
        help=f"(could not be loaded: {reason})",
        short_help="(could not be loaded)",
    )
    def broken() -> None:
        raise click.ClickException(
            f"the command {ep.name!r} ({ep.value}) could not be loaded: {reason}"
        )

    return broken


def _load(ep: EntryPoint) -> click.Command:
    try:
        command = ep.load()
        if not isinstance(command, click.Command):
            raise TypeError(f"{ep.value} is not a Click command")
    except Exception as exc:
        return _broken(ep, exc)
    return whole_summaries(command)


class RootGroup(click.Group):
    """A Click group that adds the commands of the ``mstack.commands`` entry points."""

    @cached_property
    def plugins(self) -> dict[str, click.Command]:
        found: dict[str, click.Command] = {}
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if ep.name in self.commands or ep.name in found:
                continue  # the client's own commands cannot be replaced
            found[ep.name] = _load(ep)
        return found

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.plugins})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = self.commands.get(cmd_name)
        if command is not None:
            return command
        if "plugins" not in self.__dict__:  # load just this one: a server command starts sooner
            named = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == cmd_name]
            return _load(named[0]) if named else None
        return self.plugins.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        sections = [("Commands", sorted(self.commands)), ("Server commands", sorted(self.plugins))]
        limit = (
            formatter.width - 6 - max((len(n) for _, names in sections for n in names), default=0)
        )
        for title, names in sections:
            rows = []
            for name in names:
                command = self.get_command(ctx, name)
                if command is not None and not command.hidden:
                    rows.append((name, command.get_short_help_str(limit)))
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise  # the reader of the output has gone (`| head`): end quietly (standalone)
        except (MstackError, OSError, TimeoutError) as exc:
            fail(exc)
        except KeyboardInterrupt:
            click.echo("\ninterrupted", err=True)
            sys.exit(130)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Click's ``main``; standalone, errors print as ``error: ...`` (``standalone``)."""
        prog_name = prog_name or "mstack"
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        return standalone(
            lambda: super(RootGroup, self).main(args, prog_name, complete_var, False, **extra)
        )


@click.group(cls=RootGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--server",
    envvar="MSTACK_URL",
    metavar="URL",
    help="The mstack server (default: MSTACK_URL, else the one you last signed in to, else"
    " http://127.0.0.1:8000).",
)
@click.version_option(package_name="mstack-client", prog_name="mstack")
@click.pass_context
def main(ctx: click.Context, server: str | None) -> None:
    """mstack: a content-addressed media archive.

    Sign in with `mstack login`, then upload, list and download files; every byte is
    checked against its CID. `--json` on any client command prints JSON for scripts.
    """
    ctx.obj = State(server_option=server)


def _register() -> None:
    from mstack_client._generated.cli import GROUPS
    from mstack_client.cli import (
        _auth,
        _car,
        _chat,
        _files,
        _folders,
        _groups,
        _jobs,
        _manage,
        _shares,
        _shell,
        _social,
    )

    for module in (
        _auth,
        _car,
        _chat,
        _files,
        _folders,
        _groups,
        _jobs,
        _manage,
        _shares,
        _shell,
        _social,
    ):
        for command in module.COMMANDS:
            main.add_command(command)
    for group in GROUPS:  # generated from the specs: mstack artists, ...
        main.add_command(group)
    whole_summaries(main)


_register()

__all__ = ["ENTRY_POINT_GROUP", "RootGroup", "describe", "main"]
