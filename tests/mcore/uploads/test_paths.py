"""Ingest of local paths (``mcore.uploads.paths``), the pipeline behind ``mstack ingest``,
driven directly: staged ahead on a thread, recorded in order by the upload op."""

import asyncio
import time
from pathlib import Path

from sqlmodel import select

from mcore.cid import file_cid
from mcore.db import Database
from mcore.events import Event
from mcore.files.models import File
from mcore.jobs.models import Job
from mcore.settings import Settings
from mcore.uploads.paths import PathIngest
from tests.conftest import blob_files, temp_files
from tests.media import jpeg


async def _rows(settings: Settings, table: type) -> list:
    db = Database(settings)
    try:
        async with db.session() as session:
            return list((await session.exec(select(table))).all())
    finally:
        await db.dispose()


def test_files_are_recorded_in_order_with_jobs_events_and_progress(
    settings: Settings, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "b.txt").write_bytes(b"beta")
    (src / "sub" / "a.jpg").write_bytes(jpeg())
    seen: list[tuple[int, int]] = []
    with PathIngest(settings, [src]) as ingest:
        records = ingest.run(progress=lambda done, total: seen.append((done, total)))
    assert [r.filename for r in records] == ["b.txt", "a.jpg"]  # sorted by path
    assert records[0].cid == file_cid(b"beta")
    total = (src / "b.txt").stat().st_size + (src / "sub" / "a.jpg").stat().st_size
    assert seen == [(0, total), (4, total), (total, total)]
    assert all(r.owner_id == "system" for r in records)
    files = asyncio.run(_rows(settings, File))
    jobs = asyncio.run(_rows(settings, Job))
    events = asyncio.run(_rows(settings, Event))
    assert len(files) == 2
    assert [j.file_id for j in jobs] == [records[1].id]  # only the image has processing
    assert sorted(e.type for e in events) == ["file.stored", "file.stored"]
    assert temp_files(settings) == []
    assert len(blob_files(settings)) == 2


def test_a_refused_file_is_reported_and_the_others_go_on(
    settings: Settings, tmp_path: Path
) -> None:
    strict = settings.model_copy(update={"allowed_content_types": ["image/*"]})
    src = tmp_path / "src"
    src.mkdir()
    (src / "notes.txt").write_text("not an image")
    (src / "photo.jpg").write_bytes(jpeg())
    failures: list[tuple[Path, str]] = []
    with PathIngest(strict, [src]) as ingest:
        records = ingest.run(failed=lambda path, why: failures.append((path, why)))
    assert [r.filename for r in records] == ["photo.jpg"]
    ((path, why),) = failures
    assert path == src / "notes.txt"
    assert "text/plain, which this server does not accept" in why
    assert temp_files(settings) == []


def test_closing_before_recording_keeps_nothing(settings: Settings, tmp_path: Path) -> None:
    """Staged files that were never recorded (an error, Ctrl-C before the database) leave
    no temp file, no blob and no row."""
    src = tmp_path / "src"
    src.mkdir()
    for n in range(3):
        (src / f"f{n}.bin").write_bytes(bytes([n]) * 100_000)
    with PathIngest(settings, [src]):
        deadline = time.monotonic() + 10
        while [f.stat().st_size for f in temp_files(settings)] != [100_000, 100_000]:
            assert time.monotonic() < deadline, "the first two files were not staged"
            time.sleep(0.01)  # copied into the temp area, two ahead of the database
    assert temp_files(settings) == []
    assert blob_files(settings) == []
    assert asyncio.run(_rows(settings, File)) == []


def test_bytes_the_owner_has_are_skipped_unless_again(settings: Settings, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_bytes(b"alpha")
    (src / "b.txt").write_bytes(b"alpha")  # the same bytes: the owner has them after a.txt
    skipped: list[tuple[Path, str]] = []
    with PathIngest(settings, [src]) as ingest:
        first = ingest.run(skipped=lambda path, file: skipped.append((path, file.id)))
    assert [r.filename for r in first] == ["a.txt"]
    assert skipped == [(src / "b.txt", first[0].id)]
    with PathIngest(settings, [src]) as ingest:
        second = ingest.run()
    assert second == []
    assert temp_files(settings) == []  # the copies of what was skipped are gone
    assert len(asyncio.run(_rows(settings, File))) == 1
    with PathIngest(settings, [src]) as ingest:
        forced = ingest.run(again=True)
    assert [r.filename for r in forced] == ["a.txt", "b.txt"]
    assert len(asyncio.run(_rows(settings, File))) == 3
    assert len(blob_files(settings)) == 1
