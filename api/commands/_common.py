"""What the server's commands share: settings from the environment, a clear line for a
domain error, and the command class that may skip the interpreter's teardown."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from mcore.settings import Settings, load_settings

T = TypeVar("T")


def settings_or_exit(**overrides: Any) -> Settings:
    """The settings (``MSTACK_*``, the YAML file); a configuration error is one clear line."""
    try:
        return load_settings(**overrides)
    except Exception as exc:  # settings errors are the user's to fix: say so plainly
        raise click.ClickException(f"configuration error: {exc}") from None


def run(fn: Callable[[], Awaitable[T]], *, domain_errors: bool = False) -> T:
    """Run ``fn()`` on a fresh event loop; with ``domain_errors``, an op's refusal
    (``DomainError``) becomes one line and exit status 1 instead of a traceback."""
    if not domain_errors:
        return asyncio.run(fn())  # type: ignore[arg-type]
    from mcore.errors import DomainError

    try:
        return asyncio.run(fn())  # type: ignore[arg-type]
    except DomainError as exc:
        raise click.ClickException(exc.detail) from None


class OneShot(click.Command):
    """A batch command that cleans up after itself, so the ``mstack`` script may end the
    process without the interpreter's teardown (see ``mstack_client._launch``)."""

    exit_without_teardown = True
