"""Schema migrations through Alembic, run before the server's event loop (or in a thread)."""

from __future__ import annotations

import asyncio
import threading
from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path

from alembic import command
from alembic.config import Config

from mcore.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"


def load_model_modules() -> None:
    """Import every module that declares tables: ours and those of installed domains.

    Domains register theirs in the ``mstack.models`` entry-point group, so mcore never
    imports them by name.
    """
    import_module("mcore.models")
    for ep in entry_points(group="mstack.models"):
        import_module(ep.value)


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = settings.db_url
    return config


def call_in_thread(fn: object, *args: object) -> None:
    """Call ``fn`` on a thread of its own and wait: for code that calls ``asyncio.run``
    (Alembic's env does) from where a loop may already be running."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            fn(*args)  # type: ignore[operator]
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Bring the database up to ``revision``."""
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    config = alembic_config(settings)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        command.upgrade(config, revision)
    else:
        call_in_thread(command.upgrade, config, revision)
