"""What each API process that uvicorn starts itself (``mstack serve --workers N``) loads:
the settings from the environment the parent set, the app, and the protocol class with
the settings' limits (a class made at run time cannot be handed to a child process, so
each child makes its own here)."""

from __future__ import annotations

from api.app import create_app
from api.fastpath import FastPath
from api.timeouts import guarded_protocol
from mcore.settings import load_settings

settings = load_settings()
Protocol = guarded_protocol(
    settings.request_header_timeout.total_seconds(), settings.max_header_size
)


def app() -> FastPath:
    return create_app(settings)
