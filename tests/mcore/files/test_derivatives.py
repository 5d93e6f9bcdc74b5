"""Derivatives are counted in the reference table and go when their source goes."""

from __future__ import annotations

from typing import Any

from sqlmodel import func, select

from mcore.access import Actor, Role
from mcore.db import Database
from mcore.files.derivatives import Derivative, Recipe
from mcore.files.ops import trash_file
from mcore.maintenance import collect_garbage
from mcore.refs import BlobRef
from mcore.settings import Settings
from mcore.storage import LocalBlobStore
from tests import media
from tests.apphelpers import fast, running_app
from tests.conftest import blob_files


async def _count(db: Database, table: Any) -> int:
    async with db.session() as session:
        return int((await session.exec(select(func.count()).select_from(table))).one())


async def test_derivatives_of_a_purged_file_are_collected(
    settings: Settings, db: Database, frozen_clock: Any
) -> None:
    keep = media.jpeg(300, 300, (0, 0, 255))
    async with running_app(fast(settings)) as app:
        gone = await app.upload(media.jpeg(300, 200), "gone.jpg")
        kept = await app.upload(keep, "kept.jpg")
        await app.finished(gone["job_id"])
        await app.finished(kept["job_id"])
        await app.http.get(f"/api/v1/files/{gone['id']}/image", params={"w": 50})
    # two sets of three, two public copies' findings (no copy: nothing to strip), and one
    # cached image; the two findings are the same bytes, so one blob
    assert await _count(db, Derivative) == 9
    assert len(blob_files(settings)) == 2 + 8
    async with db.session(write=True) as session:
        owner = Actor(id=gone["owner_id"], role=Role.user)
        await trash_file(session, actor=owner, file_id=gone["id"])
    store = LocalBlobStore(settings.blob_dir, settings.tmp_dir)
    report = await collect_garbage(db, store, settings)
    assert report.pruned_derivatives == 0  # in the trash, still restorable
    frozen_clock.offset += (settings.trash_retention + settings.gc_grace_period).total_seconds()
    frozen_clock.offset += 60
    dry = await collect_garbage(db, store, settings, dry_run=True)
    assert len(blob_files(settings)) == 2 + 8  # a dry run deletes nothing
    assert await _count(db, Derivative) == 9
    report = await collect_garbage(db, store, settings)
    assert report.purged_files == [gone["id"]]
    assert report.pruned_derivatives == 5
    # the original and its derivatives (the finding shared with the kept file stays);
    # counted alike by the dry run
    assert len(report.removed_blobs) == 5
    assert (dry.purged_files, dry.pruned_derivatives) == (report.purged_files, 5)
    assert (sorted(dry.removed_blobs), dry.freed_bytes) == (
        sorted(report.removed_blobs),
        report.freed_bytes,
    )
    assert await _count(db, Derivative) == 4
    async with db.session() as session:
        refs = (await session.exec(select(BlobRef))).all()
        session.expunge_all()
    assert {r.kind for r in refs} == {"file", "derived"}
    assert len(refs) == 5
    assert len(blob_files(settings)) == 5  # the kept original and its four derivatives


def test_recipe_keys_ignore_parameter_order() -> None:
    one = Recipe("image", 1, {"sizes": [256, 1024], "format": "webp"})
    two = Recipe("image", 1, {"format": "webp", "sizes": [256, 1024]})
    other = Recipe("image", 1, {"format": "webp", "sizes": [256]})
    assert one.key == two.key
    assert one.key != other.key
