"""Settings that may change while mstack runs (seed 000): stored in the database, synced
into Redis by ``mstack settings sync`` (meant for a daily timer, and run after every
change), and read by every process through :class:`RuntimeSettings`.

The sync follows seed 000: it raises a general flag in Redis while it runs; each key's
old value is kept under ``env_<key>_temp`` before the new one overwrites ``env_<key>``;
readers that see the flag read the ``_temp`` (old) values, so no process mixes old and
new; once every key is written the copies and the flag go. A failure part-way puts every
key back from its ``_temp`` copy and clears the flag. Without Redis, processes read the
database directly (every ``refresh`` seconds).

Values are stored as text and cast on reading: JSON (lists, objects, quoted strings),
integers, floats and booleans (``true``/``false``), then checked against the setting's
own type, so a stored value can never make a setting invalid.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel, select

from mcore.clock import utcnow
from mcore.db import Database, UTCDateTime
from mcore.errors import Conflict, Invalid, NotFound
from mcore.settings import Settings

# The settings a running instance may change, all read per request through the settings
# the API hands each route: the upload limits, the on-the-fly image bound, and which kinds
# may not be deleted.
RUNTIME_KEYS = (
    "max_upload_size",
    "allowed_content_types",
    "media.transform_max_dimension",
    "undeletable",
)
FLAG = "sync_in_progress"  # the key is env_sync_in_progress
FLAG_TTL = 120  # seconds: a sync that died without clearing its flag stops counting
_INT = re.compile(r"-?\d+")
_FLOAT = re.compile(r"-?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?")


class RuntimeSetting(SQLModel, table=True):
    __tablename__ = "runtime_settings"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_column=Column(Text(), nullable=False))
    previous: str | None = Field(default=None, sa_column=Column(Text()))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_by: str | None = Field(default=None, max_length=64)


def cast(raw: str) -> Any:
    """A stored string as the value it spells: JSON, int, float, bool, else the string."""
    text = raw.strip()
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    if text[:1] in ("[", "{", '"') or lowered == "null":
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return raw
    return raw


def _field(key: str) -> Any:
    if key not in RUNTIME_KEYS:
        raise NotFound(
            f"{key!r} is not a setting that can change while running; those are: "
            + ", ".join(RUNTIME_KEYS)
        )
    group, _, name = key.partition(".")
    if not name:
        return Settings.model_fields[group]
    sub = Settings.model_fields[group].annotation
    return sub.model_fields[name]  # type: ignore[union-attr]


def check(key: str, value: Any) -> Any:
    """The value as the setting's type, or 422 naming what is wrong."""
    field = _field(key)
    try:
        checked = TypeAdapter(field.annotation).validate_python(value)
        for meta in field.metadata:  # bounds such as gt=0 from the settings' Field
            for bound, test in (
                ("gt", lambda v, b: v > b),
                ("ge", lambda v, b: v >= b),
                ("lt", lambda v, b: v < b),
                ("le", lambda v, b: v <= b),
            ):
                limit = getattr(meta, bound, None)
                if limit is not None and not test(checked, limit):
                    raise Invalid(f"{key} must be {bound} {limit}", field=key)
    except ValidationError as exc:
        raise Invalid(f"{key}: {exc.errors()[0]['msg']}", field=key) from exc
    return checked


def default_of(base: Settings, key: str) -> Any:
    group, _, name = key.partition(".")
    value = getattr(base, group)
    return getattr(value, name) if name else value


def apply(base: Settings, overrides: dict[str, Any]) -> Settings:
    """``base`` with the overrides in place (grouped keys go into their group)."""
    top: dict[str, Any] = {}
    groups: dict[str, dict[str, Any]] = {}
    for key, value in overrides.items():
        group, _, name = key.partition(".")
        if name:
            groups.setdefault(group, {})[name] = value
        else:
            top[key] = value
    for group, values in groups.items():
        top[group] = getattr(base, group).model_copy(update=values)
    return base.model_copy(update=top) if top else base


class RuntimeSettings:
    """Every process's view of the runtime settings, over its static ``base`` settings."""

    def __init__(self, base: Settings, db: Database, *, refresh: float = 5.0) -> None:
        self.base = base
        self.db = db
        self.refresh = refresh
        self._redis: Any = None
        self._current = base
        self._loaded = float("-inf")

    def _key(self, key: str) -> str:
        return f"{self.base.redis_prefix}env_{key}"

    async def _client(self) -> Any:
        if self.base.redis_url is None:
            return None
        if self._redis is None:
            import redis.asyncio as aioredis

            self._redis = aioredis.Redis.from_url(self.base.redis_url, decode_responses=True)
        return self._redis

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    # -- reading ------------------------------------------------------------------------

    async def stored(self) -> dict[str, RuntimeSetting]:
        async with self.db.session() as session:
            rows = (await session.exec(select(RuntimeSetting))).all()
            session.expunge_all()
        return {row.key: row for row in rows if row.key in RUNTIME_KEYS}

    async def raw_values(self) -> dict[str, str]:
        """The stored strings every process goes by: Redis's (the old ones while a sync
        runs), or the database's without Redis."""
        redis = await self._client()
        if redis is None:
            return {key: row.value for key, row in (await self.stored()).items()}
        syncing = await redis.get(self._key(FLAG))
        names = [self._key(k) for k in RUNTIME_KEYS]
        current = await redis.mget(names)
        found = dict(zip(RUNTIME_KEYS, current, strict=True))
        if syncing:
            temps = await redis.mget([f"{n}_temp" for n in names])
            for key, old in zip(RUNTIME_KEYS, temps, strict=True):
                if old is not None:
                    found[key] = old
        return {k: v for k, v in found.items() if v is not None}

    async def get(self, key: str) -> Any:
        """One setting's value now (its static value when nothing is stored)."""
        _field(key)
        raw = (await self.raw_values()).get(key)
        if raw is None:
            return default_of(self.base, key)
        try:
            return check(key, cast(raw))
        except Invalid:
            return default_of(self.base, key)  # never let a bad stored value break a setting

    async def current(self) -> Settings:
        """The settings with the runtime values applied (cached for ``refresh`` seconds)."""
        now = time.monotonic()
        if now - self._loaded < self.refresh:
            return self._current
        overrides = {}
        for key, raw in (await self.raw_values()).items():
            try:
                overrides[key] = check(key, cast(raw))
            except Invalid:
                continue
        self._current = apply(self.base, overrides)
        self._loaded = now
        return self._current

    def forget(self) -> None:
        """Read again on the next ``current()`` (after a change in this process)."""
        self._loaded = float("-inf")

    # -- changing -----------------------------------------------------------------------

    async def set(self, key: str, value: Any, *, by: str | None) -> RuntimeSetting:
        checked = check(key, cast(value) if isinstance(value, str) else value)
        async with self.db.session(write=True) as session:
            row = await session.get(RuntimeSetting, key)
            text = json.dumps(checked)
            if row is None:
                row = RuntimeSetting(key=key, value=text, updated_at=utcnow(), updated_by=by)
            else:
                row.previous, row.value = row.value, text
                row.updated_at, row.updated_by = utcnow(), by
            session.add(row)
            await session.flush()
            session.expunge(row)
        await self.sync()
        return row

    async def unset(self, key: str) -> None:
        _field(key)
        async with self.db.session(write=True) as session:
            row = await session.get(RuntimeSetting, key)
            if row is None:
                raise NotFound(f"{key} has no stored value; it is at its default")
            await session.delete(row)
        await self.sync()

    async def rollback(self, key: str, *, by: str | None) -> RuntimeSetting:
        """Back to the value before the last change."""
        _field(key)
        async with self.db.session(write=True) as session:
            row = await session.get(RuntimeSetting, key)
            if row is None or row.previous is None:
                raise Conflict(f"{key} has no earlier value to go back to")
            row.value, row.previous = row.previous, row.value
            row.updated_at, row.updated_by = utcnow(), by
            session.add(row)
            await session.flush()
            session.expunge(row)
        await self.sync()
        return row

    async def sync(
        self, *, force: bool = False, on_key: Callable[[str], None] | None = None
    ) -> int:
        """Copy the stored values into Redis as seed 000 describes; the number of keys
        written. ``force`` runs even while another sync's flag is up. ``on_key(key)``
        after each key is written (progress)."""
        self.forget()
        redis = await self._client()
        if redis is None:
            return 0  # nothing to copy: every process reads the database
        flag = self._key(FLAG)
        if not await redis.set(flag, "1", nx=True, ex=FLAG_TTL):
            if not force:
                raise Conflict("a settings sync is already running; try again, or force it")
            await redis.set(flag, "1", ex=FLAG_TTL)
        stored = {key: row.value for key, row in (await self.stored()).items()}
        touched: list[str] = []
        try:
            for key in RUNTIME_KEYS:
                name = self._key(key)
                old = await redis.get(name)
                if old is not None:
                    await redis.set(f"{name}_temp", old)
                else:  # nothing to go back to (and no stale copy of a crashed sync)
                    await redis.delete(f"{name}_temp")
                touched.append(key)
                if key in stored:
                    await redis.set(name, stored[key])
                else:
                    await redis.delete(name)
                if on_key is not None:
                    on_key(key)
        except BaseException:
            await self._roll_back(touched)
            raise
        for key in touched:
            await redis.delete(f"{self._key(key)}_temp")
        await redis.delete(flag)
        return len(touched)

    async def _roll_back(self, touched: list[str]) -> None:
        redis = self._redis
        for key in touched:
            name = self._key(key)
            old = await redis.get(f"{name}_temp")
            if old is not None:
                await redis.set(name, old)
            else:
                await redis.delete(name)
            await redis.delete(f"{name}_temp")
        await redis.delete(self._key(FLAG))
        self.forget()


__all__ = ["RUNTIME_KEYS", "RuntimeSetting", "RuntimeSettings", "apply", "cast", "check"]
