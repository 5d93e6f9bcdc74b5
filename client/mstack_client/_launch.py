"""The ``mstack`` console script.

A server command (``mstack serve``, ``mstack ingest``...) is started straight from its
entry point, before the client's own commands and the HTTP stack are imported; anything
else goes to the full command line (``mstack_client.cli``).
"""

from __future__ import annotations

import sys
from importlib.metadata import entry_points

ENTRY_POINT_GROUP = "mstack.commands"


def main() -> None:
    args = sys.argv[1:]
    if args and not args[0].startswith("-"):
        found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == args[0]]
        if found:
            command = found[0].load()
            command.main(args[1:], prog_name=f"mstack {args[0]}")
            return
    from mstack_client.cli import main as full

    full()
