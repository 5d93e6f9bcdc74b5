"""``mstack restore``, ``mv`` and ``visibility``: changing file records; ``mstack cid`` and
``object``: CIDs worked out here, and record blocks fetched by CID."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mstack_client._transfer import collect_files
from mstack_client.cid import hash_path
from mstack_client.cli._context import json_option, state
from mstack_client.cli._files import each_file, file_json
from mstack_client.cli._refs import BLOCK_CID, FILE_ID
from mstack_client.errors import MstackError


@click.command()
@click.argument("ids", nargs=-1, required=True, metavar="ID...", type=FILE_ID)
@json_option
def restore(ids: tuple[str, ...]) -> None:
    """Bring files back from the trash (`mstack ls --trashed` lists it)."""
    each_file(ids, lambda client, file_id: client.restore_file(file_id), "restored")


@click.command("mv")
@click.argument("file_id", metavar="ID", type=FILE_ID)
@click.argument("name")
@json_option
def mv(file_id: str, name: str) -> None:
    """Rename a file (its bytes and CID stay as they are)."""
    st = state()
    with st.client() as client:
        file = client.update_file(file_id, filename=name)
    st.emit(file_json(file), lambda: click.echo(f"renamed {file.id} to {file.filename}"))


@click.command()
@click.argument("file_id", metavar="ID", type=FILE_ID)
@click.argument("visibility", type=click.Choice(["public", "private"]))
@json_option
def visibility(file_id: str, visibility: str) -> None:
    """Make a file public (anyone may read it) or private (you alone)."""
    st = state()
    with st.client() as client:
        file = client.update_file(file_id, visibility=visibility)
    st.emit(file_json(file), lambda: click.echo(f"{file.id} {file.filename} is {file.visibility}"))


@click.command()
@click.argument(
    "paths", nargs=-1, required=True, type=click.Path(exists=True, allow_dash=True, path_type=Path)
)
@json_option
def cid(paths: tuple[Path, ...]) -> None:
    """Print the CID of files (folders are walked; - reads standard input), no server needed.

    A file's CID is what the server names its bytes by: `mstack upload` skips a file whose
    CID you already have, and `mstack download` checks every byte against it.
    """
    from mstack_client.cid import cid_from_digest

    st = state()
    rows: list[dict[str, object]] = []
    if any(str(p) == "-" for p in paths) and len(paths) > 1:
        raise click.UsageError("- (standard input) cannot be mixed with paths")
    if str(paths[0]) == "-":
        import blake3

        hasher = blake3.blake3()
        size = 0
        while chunk := sys.stdin.buffer.read(1 << 20):
            hasher.update(chunk)
            size += len(chunk)
        rows.append({"path": "-", "cid": cid_from_digest(hasher.digest()), "size": size})
    else:
        for path in collect_files(paths):
            found, size = hash_path(path)
            rows.append({"path": str(path), "cid": found, "size": size})

    def human() -> None:
        for row in rows:
            click.echo(f"{row['cid']}  {row['path']}")

    st.emit(rows, human)


@click.command("object")
@click.argument("block", metavar="CID", type=BLOCK_CID)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
    help="Write the block's bytes to this file (- for standard output).",
)
@click.option("-f", "--force", is_flag=True, help="Replace an existing file.")
@json_option
def object_(block: str, output: Path | None, force: bool) -> None:
    """Fetch a record block (content or version) by CID: its DAG-CBOR bytes, or --json.

    The bytes are checked against the CID before anything is written. They go to standard
    output when it is not a terminal, or to -o FILE. --json prints the block's JSON form
    (links as {"/": cid}, bytes as {"/": {"bytes": base64}}).
    """
    st = state()
    if st.json:
        if output is not None:
            raise click.UsageError("--json prints the JSON form; -o writes the bytes: give one")
        with st.client() as client:
            data = client.get_object(block)
        st.emit(data, lambda: None)
        return
    to_stdout = output is None or str(output) == "-"
    if to_stdout and sys.stdout.isatty():
        raise click.UsageError("a block is binary (DAG-CBOR): give -o FILE, pipe it, or use --json")
    if not to_stdout and output is not None and output.exists() and not force:
        raise MstackError(f"{output} exists (use --force to replace it)")
    with st.client() as client:
        raw = client.get_object_bytes(block)
    if to_stdout:
        sys.stdout.buffer.write(raw)
        sys.stdout.buffer.flush()
        return
    assert output is not None
    output.write_bytes(raw)
    click.echo(f"saved {output} ({len(raw)} bytes, {block}; verified)", err=True)


COMMANDS = [restore, mv, visibility, cid, object_]
