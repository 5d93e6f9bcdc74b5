"""What route handlers get injected: the session, the blob store, the settings, the actor."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Actor
from mcore.auth import Auth
from mcore.db import Database
from mcore.settings import Settings
from mcore.storage import BlobStore

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Handler parameter types: the name picks the dependency, the alias says it is one.
Session = NamedDependency[AsyncSession]
Store = NamedDependency[BlobStore]
AppSettings = NamedDependency[Settings]
CurrentActor = NamedDependency[Actor]
AuthService = NamedDependency[Auth]


async def provide_session(
    request: Request[Any, Any, Any], state: State
) -> AsyncGenerator[AsyncSession, None]:
    """One session per request, committed when the handler succeeds, rolled back otherwise.

    Write methods take SQLite's write lock at their first statement, not before: an
    upload streams its bytes first and only then touches the database.
    """
    db: Database = state.db
    async with db.session(write=request.method not in READ_METHODS) as session:
        yield session


def provide_store(state: State) -> BlobStore:
    store: BlobStore = state.store
    return store


def provide_settings(state: State) -> Settings:
    settings: Settings = state.settings
    return settings
