"""On-the-fly images (``/image?w=&h=&fit=&format=&q=``), cached as derivative blobs.

Parameters come from a whitelist and within limits. A result is a transient derivative:
the cache is capped in total size (least recently used go first), entries past a maximum
age are made anew, and hits and misses are counted per process.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import col, select

from mcore.access import Actor
from mcore.clock import utcnow
from mcore.db import Database
from mcore.errors import Forbidden, Invalid
from mcore.files import derivatives
from mcore.files import ops as file_ops
from mcore.files.derivatives import Derivative, Output, Recipe
from mcore.files.imageparams import TransformParams
from mcore.media.errors import ProcessingError
from mcore.media.profiles import IMAGE_TYPES
from mcore.media.sandbox import Sandbox
from mcore.settings import Settings
from mcore.storage import BlobStore

PROCESSOR = "image.transform"
VERSION = 1
TOUCH_AFTER = timedelta(minutes=1)  # last-used times are written at most this often


@dataclass
class CacheStats:
    """Counters of this process's image cache, and how many images it makes at once
    (``slots``): a burst of requests queues instead of forking a decoder each."""

    hits: int = 0
    misses: int = 0
    evictions: int = 0
    slots: int = 2
    _busy: asyncio.Semaphore | None = field(default=None, repr=False)

    @property
    def busy(self) -> asyncio.Semaphore:
        if self._busy is None:
            self._busy = asyncio.Semaphore(self.slots)
        return self._busy


def recipe_of(params: TransformParams) -> Recipe:
    """The derivative recipe of an image made with these parameters."""
    return Recipe(processor=PROCESSOR, version=VERSION, params=params.recipe_params())


async def transformed_image(
    db: Database,
    store: BlobStore,
    sandbox: Sandbox,
    settings: Settings,
    stats: CacheStats,
    *,
    actor: Actor,
    file_id: str,
    params: TransformParams,
) -> tuple[Derivative, bool]:
    """The transformed image of a file the actor may read, and whether it was cached."""
    recipe = recipe_of(params)
    async with db.session() as session:
        file = await file_ops.get_file(session, actor=actor, file_id=file_id)
        if file.content_type not in IMAGE_TYPES:
            raise Invalid(f"file {file_id!r} is {file.content_type}, not an image", field="file")
        cached = (await derivatives.find(session, file.cid, recipe)).get("image")
        session.expunge_all()
    now = utcnow()
    if cached is not None and cached.created_at + settings.media.image_cache_max_age > now:
        stats.hits += 1
        if cached.last_used_at + TOUCH_AFTER < now:
            async with db.session(write=True) as session:
                row = await session.get(Derivative, cached.id)
                if row is not None:
                    row.last_used_at = now
                    session.add(row)
        return cached, True
    stats.misses += 1
    async with stats.busy:
        row = await _make(db, store, sandbox, settings, file.cid, params, recipe, stale=cached)
    await evict(db, store, settings, stats)
    return row, False


async def _make(
    db: Database,
    store: BlobStore,
    sandbox: Sandbox,
    settings: Settings,
    source_cid: str,
    params: TransformParams,
    recipe: Recipe,
    *,
    stale: Derivative | None,
) -> Derivative:
    source = store.local_path(source_cid)
    work = settings.tmp_dir / f"image-{secrets.token_hex(8)}.work"
    work.mkdir(parents=True, mode=0o700)
    output: Output | None = None
    try:
        if source is None:
            source = work / "source"
            with open(source, "wb") as f:
                async for chunk in store.read(source_cid):
                    f.write(chunk)
        out = work / f"image.{params.format}"
        try:
            made = await sandbox.run(
                "image.transform",
                {
                    "src": str(source),
                    "out": str(out),
                    "width": params.width,
                    "height": params.height,
                    "fit": params.fit,
                    "fmt": params.format,
                    "quality": params.quality,
                    "max_pixels": settings.media.image_max_pixels,
                    "max_frames": settings.media.image_max_frames,
                },
                result_path=work / "result.json",
            )
        except ProcessingError as exc:
            raise Invalid(f"this image cannot be transformed: {exc.message}") from None
        blob = await derivatives.stage_file(store, out)
        output = Output(
            name="image",
            blob=blob,
            content_type=made["content_type"],
            width=made["width"],
            height=made["height"],
        )
        async with db.session(write=True) as session:
            if stale is not None:
                old = await session.get(Derivative, stale.id)
                if old is not None:
                    await derivatives.remove(session, store, old)
            rows = await derivatives.record(
                session,
                store,
                source_cid=source_cid,
                recipe=recipe,
                outputs=[output],
                transient=True,
            )
        return rows["image"]
    finally:
        if output is not None:
            await store.discard(output.blob)
        shutil.rmtree(work, ignore_errors=True)


async def cache_size(db: Database) -> tuple[int, int]:
    """How many cached images there are and their total size in bytes."""
    async with db.session() as session:
        query = select(func.count(), func.coalesce(func.sum(col(Derivative.size)), 0)).where(
            col(Derivative.transient).is_(True)
        )
        count, total = (await session.exec(query)).one()
    return int(count), int(total)


async def evict(db: Database, store: BlobStore, settings: Settings, stats: CacheStats) -> int:
    """Drop least recently used cached images until the cache fits its cap."""
    cap = settings.media.image_cache_max_bytes
    _, total = await cache_size(db)
    removed = 0
    while total > cap:
        async with db.session(write=True) as session:
            query = (
                select(Derivative)
                .where(col(Derivative.transient).is_(True))
                .order_by(col(Derivative.last_used_at), col(Derivative.id))
                .limit(50)
            )
            rows = list((await session.exec(query)).all())
            if not rows:
                break
            for row in rows:
                if total <= cap:
                    break
                await derivatives.remove(session, store, row)
                total -= row.size
                removed += 1
    stats.evictions += removed
    return removed


async def cache_report(
    db: Database, settings: Settings, stats: CacheStats, *, actor: Actor
) -> dict[str, int | float]:
    """Entries, bytes and this process's hit, miss and eviction counts (admin)."""
    if not actor.is_admin:
        raise Forbidden("only an admin may read the image cache's counters")
    count, total = await cache_size(db)
    return {
        "entries": count,
        "bytes": total,
        "max_bytes": settings.media.image_cache_max_bytes,
        "max_age_seconds": settings.media.image_cache_max_age.total_seconds(),
        "hits": stats.hits,
        "misses": stats.misses,
        "evictions": stats.evictions,
    }
