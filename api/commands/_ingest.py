"""``mstack ingest``: register files already on this machine, with a progress bar.

The work is ``mcore.uploads.paths`` (copy on a thread, record with the upload op); this
module parses the arguments and prints. It imports only the pipeline before the first
copy starts, so the copy runs while the database layer is imported.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Any

import click

from api.commands._common import OneShot, settings_or_exit


@click.command(cls=OneShot)
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--move", is_flag=True, help="Move files into the archive instead of copying.")
@click.option(
    "--owner",
    metavar="USER",
    help="The account (id, email or username) that will own the files; default: the instance.",
)
@click.option(
    "--skip-existing/--again",
    default=True,
    show_default=True,
    help="Skip files whose bytes the owner already has (checked by CID), as upload does.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the file record of each file, ingested or already there, as JSON.",
)
def ingest(
    paths: tuple[Path, ...], move: bool, owner: str | None, skip_existing: bool, as_json: bool
) -> None:
    """Register files already on this machine (folders are walked).

    A file whose bytes the owner already has is skipped (--again records it anyway).
    """
    from mcore.errors import DomainError
    from mcore.uploads.paths import PathIngest

    settings = settings_or_exit()
    failures = 0
    kept: list[tuple[Path, Any]] = []  # (path, the owner's file with its bytes)

    def failed(path: Path, reason: str) -> None:
        nonlocal failures
        failures += 1
        click.echo(f"\n{path}: {reason}", err=True)

    def skipped(path: Path, record: Any) -> None:
        kept.append((path, record))

    try:
        with PathIngest(settings, paths, move=move) as pipeline, contextlib.ExitStack() as shown:
            bar: Any = None
            shown_bytes = 0

            def progress(done: int, total: int) -> None:
                nonlocal bar, shown_bytes
                if bar is None:  # opened once recording starts (the owner was found)
                    bar = click.progressbar(length=total, label="ingesting", file=sys.stderr)
                    shown.enter_context(bar)
                if done > shown_bytes:
                    bar.update(done - shown_bytes)
                    shown_bytes = done

            records = pipeline.run(
                owner=owner,
                progress=progress,
                failed=failed,
                skipped=skipped,
                again=not skip_existing,
            )
    except DomainError as exc:
        raise click.ClickException(exc.detail) from None
    results = [r.model_dump(mode="json") for r in [*records, *(r for _, r in kept)]]
    if as_json:
        click.echo(json.dumps(results, indent=2))
    else:
        for r in results:
            click.echo(f"{r['cid']}  {r['id']}  {r['filename']}")
    for path, r in kept:
        click.echo(f"already there: {path} (file {r.id})", err=True)
    click.echo(f"{len(records)} ingested, {len(kept)} already there, {failures} failed", err=True)
    if failures:
        sys.exit(1)
