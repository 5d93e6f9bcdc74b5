"""``mstack export``: a record and its history as a CAR v1 file, for IPFS tools."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mstack_client.cli._context import human_size, json_option, state
from mstack_client.cli._refs import BLOCK_CID
from mstack_client.errors import MstackError


@click.command("export")
@click.argument("record_id", metavar="ID", type=BLOCK_CID)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path, allow_dash=True),
    help="The CAR file to write, or - for standard output.",
)
@click.option(
    "--files",
    is_flag=True,
    help="Also the linked files, as raw blocks (those over 1 MiB are left out and named in"
    " the CAR's manifest block).",
)
@click.option("-f", "--force", is_flag=True, help="Replace an existing file.")
@json_option
def export(record_id: str, output: Path, files: bool, force: bool) -> None:
    """Export a record (by its id) with every version as a CAR v1 file.

    The CAR's root is the head version; it holds every version and content block, each
    named by its CID, so IPFS tools (`ipfs dag import`, `@ipld/car`) read it and anyone can
    check it. `POST /api/v1/import` on another server takes it back with the same CIDs.
    """
    st = state()
    with st.client() as client:
        try:
            if str(output) == "-":
                client.export(record_id, sys.stdout.buffer, files=files)
                sys.stdout.buffer.flush()
                return
            result = client.export(record_id, output, files=files, overwrite=force)
        except FileExistsError as exc:
            raise MstackError(f"{exc.args[0]} (use --force to replace it)") from None
        except ValueError as exc:  # not a record's id, or a type this client does not know
            raise MstackError(str(exc)) from None
    st.emit(
        {
            "path": str(result.path),
            "id": result.record_id,
            "root": result.root,
            "size": result.size,
            "omitted_files": result.omitted_files,
        },
        lambda: click.echo(
            f"saved {result.path} ({human_size(result.size)}, root {result.root})"
            + (
                f"; {result.omitted_files} linked files left out (see its manifest)"
                if result.omitted_files
                else ""
            )
        ),
    )


COMMANDS = [export]
