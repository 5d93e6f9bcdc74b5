"""``mstack storage``: moving the blobs between local disk and an S3-compatible bucket."""

from __future__ import annotations

import sys
from typing import Any

import click

from api.commands._common import run, settings_or_exit


@click.group()
def storage() -> None:
    """Blob storage: migrate between local disk and an S3-compatible bucket."""


@storage.command()
@click.option(
    "--to",
    "to",
    type=click.Choice(["s3", "local"]),
    required=True,
    help="Where the blobs go; they are read from the other one.",
)
@click.option("--dry-run", is_flag=True, help="Count what would be copied; copy nothing.")
def migrate(to: str, dry_run: bool) -> None:
    """Copy every blob to the other store, verifying each CID on arrival.

    Resumable (blobs already there are skipped) and read-only on the source, so the
    instance keeps serving meanwhile. To move: run it, switch `storage.backend` and
    restart, then run it once more to copy what was uploaded in between.
    """
    from mcore.settings import StorageSettings
    from mcore.storage import LocalBlobStore
    from mcore.storage.migrate import migrate_blobs
    from mcore.storage.s3 import S3BlobStore
    from mcore.storage.s3._config import s3_client

    settings = settings_or_exit()
    storage = settings.storage
    if not storage.s3_bucket:
        raise click.ClickException(
            "storage.s3_bucket is not set: name the bucket (MSTACK_STORAGE__S3_BUCKET)"
        )
    s3 = S3BlobStore(
        s3_client(StorageSettings(**storage.model_dump() | {"backend": "s3"})),
        part_size=storage.s3_part_size,
        concurrency=storage.s3_concurrency,
    )
    local = LocalBlobStore(settings.blob_dir, settings.tmp_dir)
    source, target = (local, s3) if to == "s3" else (s3, local)
    stream = sys.stderr

    def progress(blob: Any, outcome: str) -> None:
        if outcome in ("mismatched", "conflicting"):
            click.echo(f"{outcome.upper()} {blob.cid}", file=stream)
        counts[outcome] = counts.get(outcome, 0) + 1
        done = sum(counts.values())
        if done % 100 == 0 or outcome != "skipped":
            click.echo(
                f"\r{done} blobs: " + ", ".join(f"{n} {k}" for k, n in counts.items()),
                file=stream,
                nl=False,
            )

    counts: dict[str, int] = {}
    report = run(
        lambda: migrate_blobs(source, target, dry_run=dry_run, progress=progress),
        domain_errors=True,
    )
    if counts:
        click.echo("", file=stream)
    verb = "would copy" if dry_run else "copied"
    click.echo(
        f"{verb} {report.copied} blobs ({report.copied_bytes} bytes) to {to};"
        f" {report.skipped} already there; {len(report.mismatched)} did not match their CID"
        f" (not copied); {len(report.conflicting)} differ in the target (left alone)"
    )
    if not report.ok:
        sys.exit(1)
