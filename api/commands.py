"""The server's commands: serve, db, ingest, verify, gc, backup.

``mstack`` is one Click group; the client issue moves the group into the client
distribution and plugs these in through the ``mstack.commands`` entry-point group.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Awaitable, Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from mcore.settings import Settings, load_settings

if TYPE_CHECKING:
    from concurrent.futures import Future

    from mcore.files.staging import StagedUpload
    from mcore.storage import BlobStore

T = TypeVar("T")


def _settings(ctx: click.Context, **overrides: Any) -> Settings:
    try:
        return load_settings(**overrides)
    except Exception as exc:  # settings errors are the user's to fix: say so plainly
        raise click.ClickException(f"configuration error: {exc}") from None


def _run(fn: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(fn())  # type: ignore[arg-type]


@click.group()
@click.version_option(package_name="mstack")
def main() -> None:
    """mstack: a content-addressed media archive."""


@main.command()
@click.option("--host", help="Address to bind (default from settings: 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default from settings: 8000).")
@click.option("--no-migrate", is_flag=True, help="Do not upgrade the database first.")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, no_migrate: bool) -> None:
    """Run the API server (uvicorn, uvloop, httptools), with the job worker inside it
    unless `MSTACK_JOBS__EMBEDDED_WORKER=false` (then run `mstack worker` beside it)."""
    import uvicorn

    from api.app import create_app
    from mcore.migrate import upgrade

    settings = _settings(ctx, host=host, port=port)
    if not no_migrate:
        upgrade(settings)
    app = create_app(settings)
    click.echo(f"mstack serving {settings.data_dir} on http://{settings.host}:{settings.port}")
    uvicorn.run(app, loop="uvloop", **server_options(settings))


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options from the settings (the tests' live servers use them too).

    ``http`` is httptools' protocol with a deadline and a size bound on each request's
    head (``api.timeouts``); bodies are timed by the app itself.
    """
    from api.timeouts import guarded_protocol

    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "access_log": settings.access_log,
        "server_header": False,
        "proxy_headers": True,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        "http": guarded_protocol(
            settings.request_header_timeout.total_seconds(), settings.max_header_size
        ),
        "h11_max_incomplete_event_size": settings.max_header_size,  # should h11 be chosen
        "timeout_keep_alive": settings.keep_alive_timeout.total_seconds(),
        "limit_concurrency": settings.max_concurrency,
    }


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Apply migrations up to REVISION."""
    from mcore.migrate import upgrade

    settings = _settings(ctx)
    upgrade(settings, revision)
    click.echo(f"database at {revision}")


class OneShot(click.Command):
    """A batch command that cleans up after itself, so the ``mstack`` script may end the
    process without the interpreter's teardown (see ``mstack_client._launch``)."""

    exit_without_teardown = True


@main.command(cls=OneShot)
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--move", is_flag=True, help="Move files into the archive instead of copying.")
@click.option(
    "--owner",
    metavar="USER",
    help="The account (id, email or username) that will own the files; default: the instance.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the file records as JSON.")
@click.pass_context
def ingest(
    ctx: click.Context, paths: tuple[Path, ...], move: bool, owner: str | None, as_json: bool
) -> None:
    """Register files already on this machine (folders are walked)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from mcore.files.staging import discard_uploads, stage_path_sync
    from mcore.storage import open_store

    settings = _settings(ctx)
    files = sorted(
        {f for p in paths for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file()}
    )
    store = open_store(settings)
    # Files are staged (copied, hashed, made durable) on a thread, up to two ahead of the
    # database; the first starts now, while the database layer is still being imported.
    # A staged file stays in `window` until record() owns it (and discards its temp file).
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest")
    # Start the pool's thread before any copy: a Ctrl-C inside the submit that starts it
    # could otherwise land before the pool records the thread, and shutdown() would not
    # wait for a copy still running on it.
    pool.submit(int).result()
    stop = threading.Event()
    queue = iter(files)
    window: list[tuple[Path, Future[StagedUpload]]] = []

    def stage_next() -> None:
        path = next(queue, None)
        if path is not None:
            staging = pool.submit(stage_path_sync, store, path, settings, move=move, stop=stop)
            window.append((path, staging))

    def drop_unrecorded() -> None:
        """After an error or Ctrl-C: end the copy in progress at its next chunk and remove
        the temp files of everything staged but not recorded."""
        stop.set()
        for _, future in window:
            future.cancel()
        pool.shutdown(wait=True)
        left = [f.result() for _, f in window if not f.cancelled() and f.exception() is None]
        if left:
            _run(lambda: discard_uploads(store, left))

    results: list[dict[str, Any]] = []
    try:  # from the first copy on: a Ctrl-C anywhere still stops it and drops its temp file
        stage_next()
        stage_next()
        total = sum(f.stat().st_size for f in files)
        failed = _ingest_staged(
            settings, store, window, stage_next, total=total, owner=owner, results=results
        )
    finally:
        drop_unrecorded()
    if as_json:
        click.echo(json.dumps(results, indent=2))
    else:
        for r in results:
            click.echo(f"{r['cid']}  {r['id']}  {r['filename']}")
    click.echo(f"{len(results)} ingested, {failed} failed", err=True)
    if failed:
        sys.exit(1)


def _ingest_staged(
    settings: Settings,
    store: BlobStore,
    window: list[tuple[Path, Future[StagedUpload]]],
    stage_next: Callable[[], None],
    *,
    total: int,
    owner: str | None,
    results: list[dict[str, Any]],
) -> int:
    """Record staged files in order as they come out of ``window`` (``mstack ingest``);
    append each record to ``results`` and return how many files failed."""
    from mcore.access import SYSTEM, Actor, Role
    from mcore.db import Database
    from mcore.errors import DomainError
    from mcore.files.models import FileRead
    from mcore.files.staging import discard_uploads
    from mcore.jobs.ops import record_and_enqueue
    from mcore.wakeup import acquire_bus, release_bus

    failed = 0
    actor = SYSTEM

    def report(path: Path, exc: DomainError | OSError) -> None:
        nonlocal failed
        failed += 1
        reason = exc.detail if isinstance(exc, DomainError) else exc.strerror
        click.echo(f"\n{path}: {reason}", err=True)

    async def record(staged: StagedUpload, db: Database) -> None:
        try:
            async with db.session(write=True) as session:
                (file,) = await record_and_enqueue(
                    session, store, actor=actor, uploads=[staged], settings=settings
                )
        finally:
            await discard_uploads(store, [staged])
        results.append(FileRead.model_validate(file, from_attributes=True).model_dump(mode="json"))

    async def run() -> None:
        nonlocal actor
        db = Database(settings)
        bus = await acquire_bus(settings)  # with Redis, running workers hear of the new jobs
        try:
            if owner is not None:
                from mcore.auth.ops import find_user

                async with db.session() as session:
                    user = await find_user(session, actor=SYSTEM, name=owner)
                actor = Actor(id=user.id, role=Role(user.role))
            with click.progressbar(length=total, label="ingesting", file=sys.stderr) as bar:
                while window:
                    path, future = window[0]
                    try:
                        staged = await asyncio.wrap_future(future)
                    except (DomainError, OSError) as exc:
                        window.pop(0)
                        stage_next()
                        report(path, exc)
                        continue
                    window.pop(0)  # from here record() owns the staged file
                    stage_next()
                    try:
                        await record(staged, db)
                    except (DomainError, OSError) as exc:
                        report(path, exc)
                    bar.update(staged.blob.size)
        finally:
            await release_bus(bus)
            await db.dispose()

    try:
        _run(run)
    except DomainError as exc:
        raise click.ClickException(exc.detail) from None
    return failed


@main.command()
@click.option("--drain", is_flag=True, help="Exit once no job is due or running (batch use).")
@click.pass_context
def worker(ctx: click.Context, drain: bool) -> None:
    """Run the job worker as a process of its own, against the configured database.

    Run `mstack serve` with `MSTACK_JOBS__EMBEDDED_WORKER=false` beside it, and set
    `MSTACK_REDIS_URL` so server and workers wake each other instead of polling.
    """
    import signal

    from mcore.jobs.worker import Worker

    settings = _settings(ctx)

    async def run() -> int:
        jobs = Worker(settings)
        if drain:
            return await jobs.drain()
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, task.cancel)

        def started() -> None:
            concurrency = settings.jobs.concurrency
            click.echo(f"mstack worker {jobs.id}: {concurrency} jobs at once", err=True)

        # SIGTERM or Ctrl-C cancel it; running jobs are handed back to the queue
        with contextlib.suppress(asyncio.CancelledError):
            await jobs.run_forever(started=started)
        return jobs.completed

    completed = _run(run)
    click.echo(f"{completed} jobs finished", err=True)


@main.command()
@click.argument("file_ids", nargs=-1, required=True)
@click.pass_context
def reprocess(ctx: click.Context, file_ids: tuple[str, ...]) -> None:
    """Queue files for processing again, on the bulk lane (fresh uploads go first)."""
    from mcore.access import SYSTEM
    from mcore.db import Database
    from mcore.errors import DomainError
    from mcore.jobs.ops import reprocess as queue_again
    from mcore.wakeup import acquire_bus, release_bus

    settings = _settings(ctx)

    async def run() -> int:
        db = Database(settings)
        bus = await acquire_bus(settings)
        try:
            async with db.session(write=True) as session:
                jobs = await queue_again(
                    session, actor=SYSTEM, file_ids=list(file_ids), settings=settings
                )
            return len(jobs)
        finally:
            await release_bus(bus)
            await db.dispose()

    try:
        queued = _run(run)
    except DomainError as exc:
        raise click.ClickException(exc.detail) from None
    click.echo(f"{queued} jobs queued on the bulk lane")


@main.command()
@click.pass_context
def verify(ctx: click.Context) -> None:
    """Re-hash every stored blob; exit 1 on any mismatch or missing blob."""
    from mcore.db import Database
    from mcore.maintenance import verify_blobs
    from mcore.storage import open_store

    settings = _settings(ctx)

    async def run() -> Any:
        db = Database(settings)
        try:
            return await verify_blobs(db, open_store(settings))
        finally:
            await db.dispose()

    report = _run(run)
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


@main.command()
@click.option("--dry-run", is_flag=True, help="Report what would be removed.")
@click.pass_context
def gc(ctx: click.Context, dry_run: bool) -> None:
    """Remove expired trash, unreferenced blobs past the grace period and stale temp files."""
    from mcore.db import Database
    from mcore.maintenance import collect_garbage
    from mcore.storage import open_store

    settings = _settings(ctx)

    async def run() -> Any:
        db = Database(settings)
        try:
            return await collect_garbage(db, open_store(settings), settings, dry_run=dry_run)
        finally:
            await db.dispose()

    report = _run(run)
    verb = "would remove" if dry_run else "removed"
    click.echo(
        f"{verb} {len(report.removed_blobs)} blobs ({report.freed_bytes} bytes),"
        f" {len(report.removed_temp)} temp files; purged {len(report.purged_files)} trashed"
        f" files and {report.pruned_sessions} ended sessions; kept {report.kept_young}"
        " unreferenced blobs inside the grace period"
    )


@main.command()
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--blobs", "with_blobs", is_flag=True, help="Copy the blobs too (incremental).")
@click.pass_context
def backup(ctx: click.Context, dest: Path, with_blobs: bool) -> None:
    """Copy the database consistently (online) and write a manifest of every blob CID."""
    from mcore.db import Database
    from mcore.maintenance import backup as run_backup
    from mcore.storage import open_store

    settings = _settings(ctx)
    if not settings.is_sqlite:
        raise click.ClickException("backup copies the embedded SQLite database; use pg_dump")

    async def run() -> Any:
        db = Database(settings)
        try:
            return await run_backup(db, open_store(settings), settings, dest, with_blobs=with_blobs)
        finally:
            await db.dispose()

    report = _run(run)
    click.echo(
        f"database -> {report.database}; manifest of {report.blobs} blobs -> {report.manifest}"
        + (f"; copied {report.copied} blobs" if with_blobs else "")
    )


def _plug_in_commands() -> None:
    """Add our admin group, and the commands other installed packages offer in the
    ``mstack.commands`` entry-point group (such as ``codegen``), so ``mstack --help`` shows
    what is installed."""
    from api.admin_commands import admin

    main.add_command(admin)
    for entry in entry_points(group="mstack.commands"):
        if entry.name not in main.commands:
            main.add_command(entry.load(), entry.name)


_plug_in_commands()

if __name__ == "__main__":
    main()
