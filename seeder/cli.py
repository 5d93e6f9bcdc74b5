"""``mstack seed``: fill a running instance with the demo data, through the SDK over HTTP.

A server command (the entry point ``seed`` in pyproject.toml) because its accounts are
made by the server's own ``mstack admin demo-accounts`` on the configured database; all
else goes through the HTTP API as the demo accounts, like any client.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from typing import Any

import click

from mstack_client.errors import MstackError
from seeder.accounts import AccountsRefused
from seeder.demo import MODELS, Summary, run_demo
from seeder.scale import BATCH, run_scale

__all__ = ["seed"]


class _Progress:
    """One line on standard error, redrawn in place on a terminal; in a log, the first
    and the last step of each phase ("files 1/34", "files 34/34")."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = ""

    def __call__(self, message: str) -> None:
        step = re.match(r"(\S+) (\d+)/(\d+)", message)
        phase = step.group(1) if step else message
        if self.tty:
            click.echo(f"\r\x1b[K{message[:100]}", err=True, nl=False)
        elif phase != self.last or (step and step.group(2) == step.group(3)):
            click.echo(message, err=True)
        self.last = phase

    def done(self) -> None:
        if self.tty:
            click.echo("\r\x1b[K", err=True, nl=False)


def _counts(counts: dict[str, Any]) -> str:
    return ", ".join(f"{n} {name}" for name, n in counts.items() if n) or "none"


def _print(summary: Summary) -> None:
    data = summary.to_json()
    click.echo(
        f"Seeded the {summary.profile} profile (seed {summary.seed}) on {summary.server}"
        f" in {data['seconds']} s."
    )
    click.echo("Accounts (sign in with these):")
    for account in summary.accounts:
        click.echo(f"  {account.username:<16} {account.role:<10} {account.password}")
    click.echo(
        f"Files: {_counts(data['files'])} ({summary.files_added} added);"
        f" processing: {_counts(data['file_states'])}"
    )
    for refusal in summary.refused:
        click.echo(f"  refused {refusal}")
    added = sum(summary.records_added.values())
    click.echo(
        f"Records: {_counts({m: summary.records[m] for m in MODELS})}"
        f" ({added} added, {summary.versions_added} versions written)"
    )
    if summary.rate:
        click.echo(f"Rate: {summary.rate:.1f} records/s")
    if summary.removed:
        click.echo(f"Removed first (--reset): {_counts(dict(summary.removed))}")


@click.command()
@click.option(
    "--server",
    envvar="MSTACK_URL",
    default="http://127.0.0.1:8000",
    show_default=True,
    help="The running server to fill (or MSTACK_URL).",
)
@click.option(
    "--profile",
    type=click.Choice(["demo", "scale"]),
    default="demo",
    show_default=True,
    help="What to make: demo (accounts of every role, media, records with history) or"
    " scale (many small files and records, as fast as the server allows).",
)
@click.option(
    "--seed", "seed_", type=int, default=0, show_default=True, help="Same seed, same data."
)
@click.option(
    "--reset",
    is_flag=True,
    help="First remove, through the API, what the profile made (demo: what this seed made;"
    " scale: every record and file of the scale accounts).",
)
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=120,
    show_default=True,
    help="Seconds to wait for the uploads' processing.",
)
@click.option(
    "--records",
    type=click.IntRange(min=12),
    default=1_000_000,
    show_default=True,
    help="Scale: records in all, across the models.",
)
@click.option(
    "--files",
    type=click.IntRange(min=3),
    help="Scale: small images to upload (default: records / 100, at most 10,000).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1, max=256),
    default=4,
    show_default=True,
    help="Scale: requests in flight at once.",
)
@click.option(
    "--batch",
    type=click.IntRange(min=1, max=BATCH),
    default=BATCH,
    show_default=True,
    help="Scale: records created per request (POST /api/v1/<model>/batch).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
def seed(
    server: str,
    profile: str,
    seed_: int,
    reset: bool,
    wait: float,
    records: int,
    files: int | None,
    concurrency: int,
    batch: int,
    as_json: bool,
) -> None:
    """Fill a running server with deterministic demo data (development mode only).

    Makes the demo accounts (one of each role, with published passwords) on the configured
    database, then, signed in as them through the API, uploads media made on the spot and
    creates records with history. Running it again adds nothing. ``--profile scale``
    makes ``--records`` records and ``--files`` small images as three scale accounts,
    ``--batch`` records a request and ``--concurrency`` requests at a time, and reports
    the rate; with ``--reset`` it first removes what the scale accounts have.
    """
    progress = _Progress()
    try:
        if profile == "scale":
            summary = asyncio.run(
                run_scale(
                    server,
                    seed=seed_,
                    records=records,
                    files=files,
                    concurrency=concurrency,
                    batch=batch,
                    reset=reset,
                    report=progress,
                )
            )
        else:
            summary = run_demo(server, seed=seed_, reset=reset, wait=wait, report=progress)
    except AccountsRefused as exc:
        raise click.ClickException(f"the demo accounts were not made: {exc}") from None
    except MstackError as exc:
        raise click.ClickException(f"{server}: {exc}") from None
    finally:
        progress.done()
    if as_json:
        click.echo(json.dumps(summary.to_json()))
    else:
        _print(summary)
