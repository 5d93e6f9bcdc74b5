"""``mstack settings``: the settings that may change while mstack runs (``mcore.runtime``).
`sync` is meant for a daily timer (cron or a systemd timer); every change syncs too."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import click

from api.commands._common import run, settings_or_exit


def _with_runtime(fn: Callable[[Any], Awaitable[Any]]) -> Any:
    from mcore.db import Database
    from mcore.runtime import RuntimeSettings

    settings = settings_or_exit()

    async def go() -> Any:
        db = Database(settings)
        runtime = RuntimeSettings(settings, db)
        try:
            return await fn(runtime)
        finally:
            await runtime.close()
            await db.dispose()

    return run(go, domain_errors=True)


@click.group("settings")
def settings_group() -> None:
    """Settings that may change while running: list, get, set, unset, rollback, sync."""


@settings_group.command("list")
def list_settings() -> None:
    """Each runtime setting: its value now and its default."""
    from mcore.runtime import RUNTIME_KEYS, default_of

    async def show(runtime: Any) -> list[tuple[str, Any, Any]]:
        return [
            (key, await runtime.get(key), default_of(runtime.base, key)) for key in RUNTIME_KEYS
        ]

    for key, value, default in _with_runtime(show):
        note = "" if value == default else f"  (default {json.dumps(default)})"
        click.echo(f"{key} = {json.dumps(value)}{note}")


@settings_group.command("get")
@click.argument("key")
def get_setting(key: str) -> None:
    """Print one runtime setting's value now, as JSON."""

    async def read(runtime: Any) -> Any:
        return await runtime.get(key)

    click.echo(json.dumps(_with_runtime(read)))


@settings_group.command("set")
@click.argument("key")
@click.argument("value")
def set_setting(key: str, value: str) -> None:
    """Store a new value (JSON, a number, true/false) and sync it."""

    async def change(runtime: Any) -> Any:
        await runtime.set(key, value, by="mstack settings")
        return await runtime.get(key)

    click.echo(f"{key} = {json.dumps(_with_runtime(change))}")


@settings_group.command("unset")
@click.argument("key")
def unset_setting(key: str) -> None:
    """Remove the stored value: back to the settings file's (or the default)."""

    async def change(runtime: Any) -> Any:
        await runtime.unset(key)
        return await runtime.get(key)

    click.echo(f"{key} = {json.dumps(_with_runtime(change))} (default)")


@settings_group.command("rollback")
@click.argument("key")
def rollback_setting(key: str) -> None:
    """Go back to the value before the last change."""

    async def change(runtime: Any) -> Any:
        await runtime.rollback(key, by="mstack settings")
        return await runtime.get(key)

    click.echo(f"{key} = {json.dumps(_with_runtime(change))}")


@settings_group.command("sync")
@click.option("--force", is_flag=True, help="Run even while another sync's flag is up.")
def sync_settings(force: bool) -> None:
    """Copy the stored values into Redis (daily timer; every change does it too)."""

    async def go(runtime: Any) -> int:
        if runtime.base.redis_url is None:
            return -1
        return int(await runtime.sync(force=force))

    synced = _with_runtime(go)
    if synced < 0:
        click.echo("no redis_url: every process reads the database; nothing to sync")
    else:
        click.echo(f"synced {synced} settings into Redis")
