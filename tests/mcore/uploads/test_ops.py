"""The upload op: record, queue and announce in one transaction; temp files go after it,
whatever happened."""

from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from mcore.access import Actor, Role
from mcore.db import Database
from mcore.errors import Forbidden
from mcore.events import Event
from mcore.files.models import File, FileStatus
from mcore.files.staging import stage_stream
from mcore.jobs.models import Job
from mcore.settings import Settings
from mcore.storage import LocalBlobStore
from mcore.uploads.ops import store_uploads
from tests.conftest import blob_files, temp_files
from tests.media import jpeg

ALICE = Actor(id="alice", role=Role.user)
GUEST = Actor(id="guest", role=Role.guest)


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def test_an_upload_is_recorded_queued_and_announced(
    db: Database, store: LocalBlobStore, settings: Settings
) -> None:
    staged = await stage_stream(store, _chunks(jpeg()), settings, filename="a.jpg")
    (file,) = await store_uploads(db, store, actor=ALICE, uploads=[staged], settings=settings)
    assert file.status == FileStatus.queued
    async with db.session() as session:
        (job,) = (await session.exec(select(Job))).all()
        (event,) = (await session.exec(select(Event))).all()
    assert job.file_id == file.id
    assert file.job_id == job.id
    assert event.type == "file.stored"
    assert event.payload["job_id"] == job.id
    assert temp_files(settings) == []
    assert len(blob_files(settings)) == 1


async def test_a_refused_upload_keeps_nothing(
    db: Database, store: LocalBlobStore, settings: Settings
) -> None:
    staged = await stage_stream(store, _chunks(b"bytes"), settings, filename="x.txt")
    assert temp_files(settings) != []
    with pytest.raises(Forbidden):
        await store_uploads(db, store, actor=GUEST, uploads=[staged], settings=settings)
    async with db.session() as session:
        assert (await session.exec(select(File))).all() == []
    assert temp_files(settings) == []
    assert blob_files(settings) == []
