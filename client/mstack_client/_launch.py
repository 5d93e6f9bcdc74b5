"""The ``mstack`` console script.

A server command (``mstack serve``, ``mstack ingest``...) is started straight from its
entry point, before the client's own commands and the HTTP stack are imported; anything
else goes to the full command line (``mstack_client.cli``).

A command whose class sets ``exit_without_teardown = True`` ends the process as soon as
it returns and its output is flushed, skipping the interpreter's teardown of every module
it imported (about 50 ms after a server command; a tenth of ingesting 1 GiB). Only a
command that has closed its files, databases and threads itself may set it.
"""

from __future__ import annotations

import os
import sys
from importlib.metadata import entry_points

ENTRY_POINT_GROUP = "mstack.commands"


def main() -> None:
    args = sys.argv[1:]
    if args and not args[0].startswith("-"):
        found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == args[0]]
        if found:
            from mstack_client._standalone import standalone, whole_summaries

            command = whole_summaries(found[0].load())
            name = f"mstack {args[0]}"

            def run() -> None:
                standalone(lambda: command.main(args[1:], prog_name=name, standalone_mode=False))

            if not getattr(command, "exit_without_teardown", False):
                run()
            try:
                run()
                code = 0
            except SystemExit as exc:
                code = _exit_code(exc)
            _exit_now(code)
    from mstack_client.cli import main as full

    full()


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None or isinstance(exc.code, int):
        return exc.code or 0
    print(exc.code, file=sys.stderr)
    return 1


def _exit_now(code: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can reach it
            code = code or 1
    os._exit(code)
