"""``mstack worker`` and ``mstack reprocess``: running jobs, and queueing files again."""

from __future__ import annotations

import asyncio
import contextlib

import click

from api.commands._common import run, settings_or_exit


@click.command()
@click.option("--drain", is_flag=True, help="Exit once no job is due or running (batch use).")
@click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Serve this worker's Prometheus metrics on 127.0.0.1:PORT (`--metrics-host` to change).",
)
@click.option(
    "--metrics-host", default="127.0.0.1", show_default=True, help="Address of --metrics-port."
)
def worker(drain: bool, metrics_port: int | None, metrics_host: str) -> None:
    """Run the job worker as a process of its own, against the configured database.

    Run `mstack serve` with `MSTACK_JOBS__EMBEDDED_WORKER=false` beside it, and set
    `MSTACK_REDIS_URL` so server and workers wake each other instead of polling.
    """
    import signal

    from mcore.jobs.worker import Worker

    settings = settings_or_exit()
    from mcore.logs import configure

    configure(settings.log_level, settings.log_format)
    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr=metrics_host)

    async def work() -> int:
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

    completed = run(work)
    click.echo(f"{completed} jobs finished", err=True)


@click.command()
@click.argument("file_ids", nargs=-1, required=True)
def reprocess(file_ids: tuple[str, ...]) -> None:
    """Queue files for processing again, on the bulk lane (fresh uploads go first)."""
    from mcore.access import SYSTEM
    from mcore.db import Database
    from mcore.events.wakeup import acquire_bus, release_bus
    from mcore.jobs.ops import reprocess as queue_again

    settings = settings_or_exit()

    async def queue() -> int:
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

    queued = run(queue, domain_errors=True)
    click.echo(f"{queued} jobs queued on the bulk lane")
