"""``mstack serve`` and ``mstack db``: the API server, and the database schema."""

from __future__ import annotations

from typing import Any

import click

from api.commands._common import settings_or_exit
from mcore.settings import Settings


@click.command()
@click.option("--host", help="Address to bind (default from settings: 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default from settings: 8000).")
@click.option("--no-migrate", is_flag=True, help="Do not upgrade the database first.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="API processes on this port (uvicorn's process manager), each a whole server.",
)
def serve(host: str | None, port: int | None, no_migrate: bool, workers: int) -> None:
    """Run the API server (uvicorn, uvloop, httptools), with the job worker inside it
    unless `MSTACK_JOBS__EMBEDDED_WORKER=false` (then run `mstack worker` beside it).

    With `--workers N`, N processes share the port, the data directory and the database
    (each with its own job worker unless turned off); set `MSTACK_REDIS_URL` so they wake
    each other at once instead of polling.
    """
    import os

    import uvicorn

    from api.app import create_app
    from mcore.migrate import upgrade

    settings = settings_or_exit(host=host, port=port)
    if not no_migrate:
        upgrade(settings)
    raise_open_files_limit()
    where = f"{settings.data_dir} on http://{settings.host}:{settings.port}"
    if workers > 1:
        # each child loads the settings from this environment (api._multiprocess)
        os.environ["MSTACK_HOST"], os.environ["MSTACK_PORT"] = settings.host, str(settings.port)
        options = server_options(settings) | {"http": "api._multiprocess:Protocol"}
        click.echo(f"mstack serving {where} with {workers} processes")
        uvicorn.run(
            "api._multiprocess:app", factory=True, workers=workers, loop="uvloop", **options
        )
        return
    app = create_app(settings)
    click.echo(f"mstack serving {where}")
    uvicorn.run(app, loop="uvloop", **server_options(settings))


def raise_open_files_limit() -> int:
    """Raise this process's soft limit of open files to its hard limit, and return it.

    Each connection is a descriptor, and each file of an upload keeps its temp file open
    (holding its lock, ``mcore.storage.local._held``) until the upload is recorded: a form
    of up to 1000 files and up to ``max_concurrency`` connections need more than the 1024
    many systems give a process by default. (Go's runtime does the same at start-up.)
    """
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            return soft
        return hard
    return soft


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options from the settings (the tests' live servers use them too).

    ``http`` is httptools' protocol with a deadline and a size bound on each request's
    head (``api.timeouts``); bodies are timed by the app itself.
    """
    from api.timeouts import guarded_protocol
    from mcore.logs import uvicorn_log_config

    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "log_config": uvicorn_log_config(settings.log_level, settings.log_format),
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


@click.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""
    from mcore.migrate import upgrade

    settings = settings_or_exit()
    upgrade(settings, revision)
    click.echo(f"database at {revision}")
