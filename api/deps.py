"""What route handlers get injected: the session, the blob store, the settings, the actor,
and the application's state."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlmodel.ext.asyncio.session import AsyncSession

from api.state import AppState, app_state
from mcore.access import Actor
from mcore.auth import Auth
from mcore.settings import Settings
from mcore.storage import BlobStore

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Handler parameter types: the name picks the dependency, the alias says it is one.
Session = NamedDependency[AsyncSession]
Store = NamedDependency[BlobStore]
AppSettings = NamedDependency[Settings]
CurrentActor = NamedDependency[Actor]
AuthService = NamedDependency[Auth]
App = NamedDependency[AppState]  # the parameter is named app_state


async def provide_session(
    request: Request[Any, Any, Any], state: State
) -> AsyncGenerator[AsyncSession, None]:
    """One session per request, committed when the handler succeeds, rolled back otherwise.

    Write methods take SQLite's write lock at their first statement, not before: an
    upload streams its bytes first and only then touches the database.
    """
    db = app_state(state).db
    async with db.session(write=request.method not in READ_METHODS) as session:
        yield session


def provide_app_state(state: State) -> AppState:
    return app_state(state)


def provide_store(state: State) -> BlobStore:
    return app_state(state).store


async def provide_settings(state: State) -> Settings:
    """The settings with the runtime values in place (``mcore.runtime``; cached a few
    seconds, so this costs a dictionary read on most requests)."""
    return await app_state(state).runtime.current()
