"""Helpers for record tests: actors of every role, sessions around ops, real uploads."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from PIL import Image
from sqlalchemy import func
from sqlmodel import SQLModel, select

from mcore.access import Actor, Role
from mcore.db import Database
from mcore.files.ingest import record_uploads
from mcore.files.models import File
from mcore.files.staging import discard_uploads, stage_stream
from mcore.settings import Settings
from mcore.storage import BlobStore

T = TypeVar("T")

ALICE = Actor(id="alice", role=Role.user)
BOB = Actor(id="bob", role=Role.user)
GUEST = Actor(id="gail", role=Role.guest, scopes=frozenset({"files:read", "records:read"}))
MODERATOR = Actor(id="mona", role=Role.moderator)
ADMIN = Actor(id="root", role=Role.admin)
READ_ONLY_KEY = Actor(id="alice", role=Role.user, scopes=frozenset({"records:read"}))


async def write(db: Database, op: Callable[..., Awaitable[T]], **kwargs: Any) -> T:
    """Run one op in its own write transaction (as a request would)."""
    async with db.session(write=True) as session:
        return await op(session, **kwargs)


async def read(db: Database, op: Callable[..., Awaitable[T]], **kwargs: Any) -> T:
    async with db.session() as session:
        return await op(session, **kwargs)


async def count(db: Database, table: type[SQLModel]) -> int:
    async with db.session() as session:
        return int((await session.exec(select(func.count()).select_from(table))).one())


async def rows(db: Database, table: type[SQLModel]) -> list[Any]:
    async with db.session() as session:
        return list((await session.exec(select(table))).all())


def png(width: int = 4, height: int = 3, colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A real PNG, made here."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def upload(
    db: Database,
    store: BlobStore,
    settings: Settings,
    actor: Actor,
    data: bytes,
    filename: str = "image.png",
) -> File:
    """Store bytes and write a file record owned by ``actor``, as an upload does."""
    staged = await stage_stream(store, _chunks(data), settings, filename=filename)
    try:
        async with db.session(write=True) as session:
            (file,) = await record_uploads(session, store, actor=actor, uploads=[staged])
    finally:
        await discard_uploads(store, [staged])
    return file
