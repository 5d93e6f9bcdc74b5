"""``mstack verify``, ``mstack gc`` and ``mstack backup``: keeping the archive sound."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from api.commands._common import run, settings_or_exit


@click.command()
def verify() -> None:
    """Re-hash every stored blob; exit 1 on any mismatch or missing blob."""
    from mcore.db import Database
    from mcore.maintenance import verify_blobs
    from mcore.storage import open_store

    settings = settings_or_exit()

    async def check() -> Any:
        db = Database(settings)
        try:
            return await verify_blobs(db, open_store(settings))
        finally:
            await db.dispose()

    report = run(check)
    for cid, actual in report.mismatched:
        click.echo(f"MISMATCH {cid}: bytes hash to {actual}")
    for cid in report.missing:
        click.echo(f"MISSING {cid}: referenced but not in the store")
    click.echo(
        f"checked {report.checked} blobs ({report.bytes} bytes):"
        f" {len(report.mismatched)} mismatched, {len(report.missing)} missing"
    )
    if not report.ok:
        sys.exit(1)


@click.command()
@click.option("--dry-run", is_flag=True, help="Report what would be removed.")
def gc(dry_run: bool) -> None:
    """Remove expired trash, unreferenced blobs past the grace period, expired resumable
    uploads, and temp files no live upload holds (cut off by a crash) or stale ones."""
    from mcore.db import Database
    from mcore.maintenance import collect_garbage
    from mcore.storage import open_store

    settings = settings_or_exit()

    async def collect() -> Any:
        db = Database(settings)
        try:
            return await collect_garbage(db, open_store(settings), settings, dry_run=dry_run)
        finally:
            await db.dispose()

    report = run(collect)
    verb = "would remove" if dry_run else "removed"
    click.echo(
        f"{verb} {len(report.removed_blobs)} blobs ({report.freed_bytes} bytes),"
        f" {len(report.removed_temp)} temp files ({report.freed_temp_bytes} bytes,"
        f" {report.orphaned_temp} left by uploads cut off by a crash),"
        f" {len(report.expired_uploads)} expired resumable uploads"
        f" ({report.freed_upload_bytes} bytes); purged {len(report.purged_files)} trashed"
        f" files and {report.pruned_sessions} ended sessions; kept {report.kept_young}"
        f" unreferenced blobs inside the grace period and {report.live_temp} temp files"
        " of uploads in progress"
    )


@click.command()
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--blobs", "with_blobs", is_flag=True, help="Copy the blobs too (incremental).")
def backup(dest: Path, with_blobs: bool) -> None:
    """Copy the database consistently (online; pg_dump on PostgreSQL) and write a manifest
    of every blob CID; `--blobs` copies the blobs too, verified, from disk or a bucket."""
    from mcore.db import Database
    from mcore.maintenance import backup as run_backup
    from mcore.storage import open_store

    settings = settings_or_exit()

    async def copy() -> Any:
        db = Database(settings)
        try:
            return await run_backup(db, open_store(settings), settings, dest, with_blobs=with_blobs)
        finally:
            await db.dispose()

    report = run(copy, domain_errors=True)
    click.echo(
        f"database -> {report.database}; manifest of {report.blobs} blobs -> {report.manifest}"
        + (f"; copied {report.copied} blobs" if with_blobs else "")
    )
