"""The database: one async engine per process, SQLite (WAL) by default, PostgreSQL by URL.

SQLite write transactions start with ``BEGIN IMMEDIATE`` so a read-then-write transaction
waits for the lock instead of failing with "database is locked"; read sessions run their
statements in autocommit and never wait on writers (WAL).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, TypeDecorator, event, text
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.settings import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event decide how each transaction starts.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: a commit survives power loss; an archive answers 201 only for what is durable.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # Reads run in autocommit: each SELECT sees one consistent snapshot (WAL) and skips a
    # round trip to the driver's thread, which costs more than the query itself.
    if conn.get_execution_options().get("mstack_write"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


_SETTINGS_KEY = "mstack_settings"


class Database:
    """Engine and session factory for one settings object."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = settings.db_url
        self.is_sqlite = settings.is_sqlite
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 60}
            kwargs["pool_size"] = 8
            kwargs["max_overflow"] = 8
        else:
            kwargs["pool_pre_ping"] = True
            # No JIT: mstack's queries are short, and PostgreSQL compiles any whose cost
            # estimate passes `jit_above_cost`, which can cost far more than running it
            # (the files list: 0.5-0.75 s of compiling for 7-12 ms of work, issue #15).
            kwargs["connect_args"] = {"server_settings": {"jit": "off"}}
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_connect)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin)
        self._write_engine = self.engine.execution_options(mstack_write=True)

    @asynccontextmanager
    async def session(self, *, write: bool = False) -> AsyncIterator[AsyncSession]:
        """A session that commits when the block ends without error and rolls back otherwise.

        ``write=True`` is for blocks that will write: on SQLite they take the write lock
        when their first statement runs, so the whole block is one serial transaction.
        """
        bind = self._write_engine if write else self.engine
        async with AsyncSession(bind, expire_on_commit=False) as session:
            session.info[_SETTINGS_KEY] = self.settings
            try:
                yield session
                if write:
                    await session.commit()
            except BaseException:
                await session.rollback()
                raise
        # a read session just closes: its objects stay loaded, detached, for the caller

    async def dispose(self) -> None:
        await self.engine.dispose()


def session_settings(session: AsyncSession) -> Settings:
    """The settings of the database a session belongs to, for rules deep in an op (a
    record hook's abuse limit) that are not handed them."""
    settings = session.info.get(_SETTINGS_KEY)
    if not isinstance(settings, Settings):
        raise RuntimeError("this session was not opened by Database.session")
    return settings


async def serialize_on(session: AsyncSession, key: str) -> None:
    """Serialize this transaction against others that name the same key, until it ends.

    On SQLite the write lock of ``BEGIN IMMEDIATE`` already serializes every writer; the
    statement only makes the transaction begin now. On PostgreSQL a transaction-scoped
    advisory lock on the key does it.
    """
    connection = await session.connection()  # begins the transaction (BEGIN IMMEDIATE)
    if connection.dialect.name == "sqlite":
        return
    number = int.from_bytes(
        hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True
    )
    await connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": number})
