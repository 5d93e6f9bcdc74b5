"""``mstack jobs show|wait|watch``: processing jobs and live events."""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from typing import Any

import click
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

from mstack_client.cli._context import json_option, state
from mstack_client.errors import JobFailed
from mstack_client.models import Event, Job


def _job_json(job: Job) -> dict[str, Any]:
    return job.raw or {"id": job.id, "state": job.state, "progress": job.progress}


def _job_line(job: Job) -> str:
    line = f"{job.id}  {job.state}  {job.progress}%"
    if job.kind:
        line += f"  {job.kind}"
    if job.file_id:
        line += f"  file {job.file_id}"
    if job.error:
        line += f"  error: {job.error}"
    return line


@click.group()
def jobs() -> None:
    """Processing jobs (previews and the like) and live events."""


@jobs.command("show")
@click.argument("job_id")
@json_option
def show(job_id: str) -> None:
    """Show a job's state and progress."""
    st = state()
    with st.client() as client:
        job = client.get_job(job_id)
    st.emit(_job_json(job), lambda: click.echo(_job_line(job)))


@jobs.command("watch")
@click.argument("job_ids", nargs=-1, metavar="[JOB_ID]...")
@click.option(
    "--after",
    type=click.IntRange(min=0),
    metavar="SEQ",
    help="Replay events after this sequence number first.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="Give up waiting for the jobs after this long (exit 1); without JOB_IDs, stop"
    " following events after this long (exit 0).",
)
@json_option
def watch(job_ids: tuple[str, ...], after: int | None, timeout: float | None) -> None:
    """Follow live events, or with JOB_IDs wait for those jobs with a progress bar.

    With JOB_IDs it exits 1 if any of them failed. Without, it runs until interrupted or
    --timeout, printing one line per event (one JSON object per line with --json).
    """
    st = state()
    with st.client() as client:
        if not job_ids:
            try:
                with _deadline(timeout) as check:
                    for event in client.events(after=after):
                        _print_event(event, as_json=st.json)
                        check()
            except (KeyboardInterrupt, _Deadline):
                return
            return
        finished: list[Job] = []
        failed = False
        progress = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            TaskProgressColumn(),
            console=st.err,
            transient=True,
            disable=not st.err.is_terminal,
        )
        with progress:
            for job_id in job_ids:
                task = progress.add_task(job_id, total=100)

                def report(job: Job, task: Any = task) -> None:
                    progress.update(
                        task, completed=job.progress, description=f"{job.id} {job.state}"
                    )

                try:
                    finished.append(client.wait_for_job(job_id, timeout=timeout, progress=report))
                except JobFailed as exc:
                    failed = True
                    finished.append(exc.job)

    def human() -> None:
        for job in finished:
            click.echo(_job_line(job))

    st.emit([_job_json(j) for j in finished], human)
    if failed:
        sys.exit(1)


class _Deadline(Exception):
    """Raised in the main thread when ``--timeout`` is up, whatever it is waiting on."""


@contextlib.contextmanager
def _deadline(seconds: float | None) -> Iterator[Callable[[], None]]:
    """Raise ``_Deadline`` after ``seconds``, even inside a blocking read of the socket.

    A real-time timer's signal interrupts whatever the main thread waits on. Elsewhere
    (another thread, a system without timers) the check it yields raises once the time is
    up: call it after each event.
    """
    end = None if seconds is None else time.monotonic() + seconds

    def check() -> None:
        if end is not None and time.monotonic() >= end:
            raise _Deadline

    check()
    if seconds is None or not _timers():
        yield check
        return

    def ring(signum: int, frame: Any) -> None:
        raise _Deadline

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield check
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _timers() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def _print_event(event: Event, *, as_json: bool) -> None:
    if as_json:
        data = asdict(event)
        data["at"] = event.at.isoformat() if event.at else None
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    at = event.at.strftime("%H:%M:%S") if event.at else "--:--:--"
    details = " ".join(
        f"{k}={v}" for k, v in sorted(event.data.items()) if not isinstance(v, dict | list)
    )
    click.echo(
        f"{at}  #{event.seq if event.seq is not None else '-'}  {event.type}  {details}".rstrip()
    )
    sys.stdout.flush()


COMMANDS = [jobs]
