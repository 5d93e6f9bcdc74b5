"""Ingest of files already on this machine (``mstack ingest``).

Each file is staged (copied or adopted, hashed, made durable) on a thread, up to two
ahead of the database, and recorded in order by the upload op, one transaction per file.
The first copy starts as soon as the pipeline opens, while the database layer (about
0.17 s of imports, bench/README.md) is still being imported: this module imports only
staging and the blob store at the top.

Interrupted anywhere (an error, Ctrl-C), closing the pipeline stops the copy in progress
at its next chunk and removes the temp file of everything staged but not recorded.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from mcore.access import SYSTEM, Actor, Role
from mcore.errors import DomainError
from mcore.files.staging import StagedUpload, discard_uploads, stage_path_sync
from mcore.settings import Settings
from mcore.storage import open_store

if TYPE_CHECKING:
    from mcore.files.models import FileRead

Progress = Callable[[int, int], None]  # (bytes done, bytes in all)
Failed = Callable[[Path, str], None]  # (path, why), for each file that was not ingested
Skipped = Callable[[Path, "FileRead"], None]  # (path, the owner's file with its bytes)


def files_under(paths: Iterable[Path]) -> list[Path]:
    """The files named, and those inside the folders named (walked), sorted, once each."""
    return sorted({f for p in paths for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file()})


class PathIngest:
    """The pipeline of one ``mstack ingest``: ``with PathIngest(...) as ingest:`` starts
    copying; ``ingest.run(...)`` records every file and returns the records."""

    def __init__(self, settings: Settings, paths: Iterable[Path], *, move: bool = False) -> None:
        self.settings = settings
        self.move = move
        self.files = files_under(paths)
        self.store = open_store(settings)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest")
        # Start the pool's thread before any copy: a Ctrl-C inside the submit that starts
        # it could otherwise land before the pool records the thread, and shutdown() would
        # not wait for a copy still running on it.
        self._pool.submit(int).result()
        self._stop = threading.Event()
        self._queue = iter(self.files)
        # staged or being staged, in order; a file stays here until the upload op owns it
        self._window: list[tuple[Path, Future[StagedUpload]]] = []

    def __enter__(self) -> PathIngest:
        try:  # from the first copy on, an interruption still stops it and drops its temp file
            self._stage_next()
            self._stage_next()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def total(self) -> int:
        """Bytes to ingest in all."""
        return sum(f.stat().st_size for f in self.files)

    def _stage_next(self) -> None:
        path = next(self._queue, None)
        if path is not None:
            staging = self._pool.submit(
                stage_path_sync, self.store, path, self.settings, move=self.move, stop=self._stop
            )
            self._window.append((path, staging))

    def close(self) -> None:
        """End the copy in progress at its next chunk and remove the temp files of
        everything staged but not recorded (nothing is left after an error or Ctrl-C)."""
        self._stop.set()
        for _, future in self._window:
            future.cancel()
        self._pool.shutdown(wait=True)
        left = [f.result() for _, f in self._window if not f.cancelled() and f.exception() is None]
        self._window.clear()
        if left:
            asyncio.run(discard_uploads(self.store, left))

    def run(
        self,
        *,
        owner: str | None = None,
        progress: Progress | None = None,
        failed: Failed | None = None,
        skipped: Skipped | None = None,
        again: bool = False,
    ) -> list[FileRead]:
        """Record every file, in order, as ``owner``'s (an account's id, email or username;
        default: the instance itself) and return their records (``FileRead``).

        A file whose bytes the owner already has (a live file with its CID, recorded
        before or earlier in this run) is not recorded again: ``skipped`` hears of it with
        the owner's file, as ``mstack upload`` skips it; ``again`` records it all the same.
        ``progress`` hears the bytes done once recording starts and after each file;
        ``failed`` hears of each file that could not be staged or recorded (the others go
        on). ``DomainError`` when ``owner`` names no account."""
        return asyncio.run(self._record_all(owner, progress, failed, skipped, again))

    async def _record_all(
        self,
        owner: str | None,
        progress: Progress | None,
        failed: Failed | None,
        skipped: Skipped | None,
        again: bool,
    ) -> list[FileRead]:
        # imported here, while the first copies run (see the module's docstring)
        from mcore.auth.ops import find_user
        from mcore.db import Database
        from mcore.events.wakeup import acquire_bus, release_bus
        from mcore.files.models import to_read
        from mcore.files.ops import list_files
        from mcore.uploads.ops import store_uploads

        records: list[FileRead] = []
        db = Database(self.settings)
        bus = await acquire_bus(self.settings)  # with Redis, running workers hear of the jobs
        try:
            actor = SYSTEM
            if owner is not None:
                async with db.session() as session:
                    user = await find_user(session, actor=SYSTEM, name=owner)
                actor = Actor(id=user.id, role=Role(user.role))
            total, done = self.total, 0
            if progress is not None:
                progress(done, total)
            while self._window:
                path, future = self._window[0]
                try:
                    staged = await asyncio.wrap_future(future)
                except (DomainError, OSError) as exc:
                    self._window.pop(0)
                    self._stage_next()
                    if failed is not None:
                        failed(path, _reason(exc))
                    continue
                self._window.pop(0)  # from here the upload op owns the staged file
                self._stage_next()
                if not again:
                    try:
                        async with db.session() as session:
                            owned = await list_files(
                                session, actor=actor, mine=True, cid=staged.blob.cid, limit=1
                            )
                    except BaseException:
                        await discard_uploads(self.store, [staged])
                        raise
                    if owned.items:
                        await discard_uploads(self.store, [staged])
                        if skipped is not None:
                            skipped(path, owned.items[0])
                        done += staged.blob.size
                        if progress is not None:
                            progress(done, total)
                        continue
                try:
                    (file,) = await store_uploads(
                        db, self.store, actor=actor, uploads=[staged], settings=self.settings
                    )
                    records.append(to_read(file, actor_id=actor.id))
                except (DomainError, OSError) as exc:
                    if failed is not None:
                        failed(path, _reason(exc))
                done += staged.blob.size
                if progress is not None:
                    progress(done, total)
        finally:
            await release_bus(bus)
            await db.dispose()
        return records


def _reason(exc: DomainError | OSError) -> str:
    return exc.detail if isinstance(exc, DomainError) else str(exc.strerror)
