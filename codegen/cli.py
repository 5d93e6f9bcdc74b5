"""``mstack codegen``: the generator as a command of the ``mstack`` group.

Offered through the ``mstack.commands`` entry-point group, so the server's command line
never imports codegen itself.
"""

from __future__ import annotations

import sys

import click


@click.command("codegen")
@click.option("--check", is_flag=True, help="Exit 1 with a diff when generated code is stale.")
def codegen(check: bool) -> None:
    """Render the specs into generated code (a development tool: needs the dev extras)."""
    from codegen.__main__ import run

    sys.exit(run(check=check))
