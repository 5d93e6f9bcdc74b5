# sync: """``Client``: the synchronous SDK (``AsyncClient`` has the same methods, awaited)."""
"""``AsyncClient``: the asyncio SDK, with the same methods as ``Client``, awaited.

File reads, hashing and writes run in worker threads so the event loop never waits on disk.

The two clients are written once, here: ``python -m codegen`` writes ``Client``
(``_generated/sdk/client.py``) from this file by dropping ``async`` and ``await``, calling
what runs in ``asyncio.to_thread`` directly and giving asyncio names their synchronous
twins (``codegen/unasync.py``; the steps that truly differ are in ``_twins.py``). A
``# sync:`` comment gives the line that follows as ``Client`` has it.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import IO, Any, TypeVar, overload

import blake3
import httpx

from mstack_client import _api
from mstack_client._core import (
    DEFAULT_TIMEOUT,
    USER_AGENT,
    Base,
    Call,
    TokenStore,
    segment,
)
from mstack_client._generated.sdk import RECORD_PATHS, AsyncModels
from mstack_client._transfer import (
    CHUNK,
    OFFSET_TYPE,
    RETRY_DELAYS,
    TUS_HEADERS,
    TUS_THRESHOLD,
    ChunkReader,
    FileSink,
    ManyProgress,
    Prepared,
    Progress,
    Reader,
    ResumeState,
    Sink,
    Source,
    StreamSink,
    collect_files,
    content_range_start,
    expected_total,
    prepare,
    safe_filename,
    tus_metadata,
)
from mstack_client._twins import AsyncSinkWriter, acheck_status, alocked, amap_bounded
from mstack_client.asharing import AsyncSharing
from mstack_client.cid import DAG_CBOR, RAW, cid_from_digest, is_cid
from mstack_client.errors import (
    ConnectionFailed,
    IntegrityError,
    Interrupted,
    Invalid,
    JobFailed,
    MstackError,
    NotFound,
    Unauthorized,
)
from mstack_client.models import (
    Conversation,
    DownloadResult,
    Event,
    ExportResult,
    FileInfo,
    Folder,
    FollowCounts,
    Job,
    Message,
    Page,
    SignedLink,
    Tokens,
    UploadResult,
    User,
)
from mstack_client.records import Record

T = TypeVar("T")
WATCH_PAGES = 10  # pages of a feed one poll of watch_feed reads at most (the newest 500)


def _post(raw: dict[str, Any]) -> Record:
    """A post of a feed, as msocial's generated model (imported when first needed: the
    client package is built for any project's specs, msocial's or not)."""
    models = importlib.import_module("mstack_client._generated.sdk.msocial")
    post: Record = models.Post.from_json(raw)
    return post


class AsyncClient(AsyncModels, AsyncSharing, Base):
    # sync: """A synchronous mstack client. Thread-safe; use it as a context manager or ``close()`` it.  # noqa: E501
    # sync:
    # sync: Credentials: ``api_key=``, or ``login()`` (tokens refresh by themselves), or ``tokens=``
    # sync: from an earlier session; a ``token_store`` keeps them between runs. Given none, it uses
    # sync: ``MSTACK_API_KEY`` or what ``mstack login`` stored, and ``MSTACK_URL`` when given no
    # sync: server, as ``mstack`` does (``use_env=False``: neither). Each record model is an
    # sync: attribute with the same methods: ``client.artists.create(...)``, ``.list()``, ...;
    # sync: so are ``client.folders``, ``client.groups`` and ``client.shares``.
    # sync: """
    """An asyncio mstack client; ``async with AsyncClient(...) as mstack:`` or ``aclose()`` it.

    Credentials and the server as ``Client`` has them (``MSTACK_URL``, ``MSTACK_API_KEY``,
    the CLI's stored login, unless ``use_env=False``).
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        api_key: str | None = None,
        tokens: Tokens | None = None,
        token_store: TokenStore | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: bool | str = True,
        use_env: bool = True,
        tus_threshold: int | None = TUS_THRESHOLD,
        resume_state: ResumeState | None = None,
    ) -> None:
        super().__init__(
            base_url, api_key=api_key, tokens=tokens, token_store=token_store, use_env=use_env
        )
        # files at least this large go over tus, resuming where an earlier try stopped
        # (None: never); where their upload URLs are kept until they are finished
        self.tus_threshold = tus_threshold
        self.resume_state = resume_state or ResumeState()
        self._http = httpx.AsyncClient(
            timeout=timeout,
            transport=transport or httpx.AsyncHTTPTransport(retries=2, verify=verify),
            headers={"User-Agent": USER_AGENT},
        )
        self._refresh_lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ sending

    async def _send(
        self,
        call: Call[Any],
        *,
        content: Callable[[], AsyncIterator[bytes]] | None = None,
        stream: bool = False,
        replayable: bool = True,
    ) -> httpx.Response:
        """Send a call with credentials; on a 401 refresh the session once and try again."""
        if call.auth and self._should_refresh_soon():
            await self._refresh(self._credential())
        for attempt in range(2):
            used = self._credential() if call.auth else None
            headers = {"Authorization": f"Bearer {used}"} if used else {}
            request = self._http.build_request(
                **self._request(call, headers), content=content() if content else None
            )
            try:
                response = await self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                raise self._connection_failed(exc) from None
            if (
                response.status_code == 401
                and attempt == 0
                and used is not None
                and replayable
                and self._can_refresh()
            ):
                await response.aclose()
                await self._refresh(used)
                continue
            return response
        raise AssertionError("unreachable")

    async def _call(self, call: Call[T]) -> T:
        return self._answer(call, await self._send(call))

    async def _refresh(self, used: str | None) -> Tokens | None:
        """Swap the refresh token for new tokens, once, whoever in this process asks first."""
        async with self._refresh_lock:
            tokens = self._tokens
            if tokens is None or tokens.refresh_token is None:
                return tokens
            if used is not None and tokens.access_token != used:
                return tokens  # another caller refreshed while this one waited
            async with alocked(self.token_store):
                stored = await asyncio.to_thread(self.token_store.load)
                if stored is not None and stored.refresh_token != tokens.refresh_token:
                    self._adopt(stored)  # another process refreshed: its tokens are current
                    return stored
                call = self._refresh_call(tokens.refresh_token)
                try:
                    new = self._answer(call, await self._send(call))
                except Unauthorized:
                    # the session is over: its tokens are useless
                    await asyncio.to_thread(self.token_store.save, None)
                    self._adopt(None)
                    raise
                await asyncio.to_thread(self.token_store.save, new)
                self._adopt(new)
                return new

    def _store_locked(self, tokens: Tokens | None) -> None:
        with self.token_store.lock():
            self.token_store.save(tokens)

    # ------------------------------------------------------------------ accounts

    async def health(self) -> dict[str, Any]:
        """The server's liveness answer."""
        return await self._call(_api.health())

    async def login(
        self, *, email: str | None = None, username: str | None = None, password: str
    ) -> Tokens:
        """Sign in with an email or a username and the password; later calls use the session."""
        tokens = await self._call(_api.login(email=email, username=username, password=password))
        await asyncio.to_thread(self._store_locked, tokens)
        self.api_key = None
        self._adopt(tokens)
        return tokens

    async def refresh(self) -> Tokens:
        """Swap the refresh token for new tokens now (it also happens by itself)."""
        tokens = await self._refresh(self._credential())
        if tokens is None:
            raise Unauthorized("not signed in with a session: there is nothing to refresh")
        return tokens

    async def logout(self) -> None:
        """End the session on the server and forget its tokens."""
        try:
            if self._tokens is not None:
                await self._call(_api.logout())
        except Unauthorized:
            pass  # already over
        finally:
            await asyncio.to_thread(self._store_locked, None)
            self._adopt(None)

    async def me(self) -> User:
        """The signed-in account."""
        return await self._call(_api.me())

    async def register(
        self,
        *,
        email: str,
        username: str,
        password: str,
        display_name: str | None = None,
        phone: str | None = None,
    ) -> User:
        """Create an account (``login`` then signs in to it)."""
        call = _api.register(
            email=email,
            username=username,
            password=password,
            display_name=display_name,
            phone=phone,
        )
        return await self._call(call)

    # ------------------------------------------------------------------ file records

    async def get_file(self, file_id: str) -> FileInfo:
        return await self._call(_api.get_file(file_id))

    async def list_files(
        self,
        *,
        cursor: str | None = None,
        limit: int | None = None,
        mine: bool | None = None,
        trashed: bool | None = None,
        folder_id: str | None = None,
    ) -> Page[FileInfo]:
        """One page of files, newest first; ``next`` is the cursor of the following page.
        ``folder_id``: only the files directly in that folder."""
        call = _api.list_files(
            cursor=cursor, limit=limit, mine=mine, trashed=trashed, folder_id=folder_id
        )
        return await self._call(call)

    async def iter_files(
        self, *, mine: bool | None = None, trashed: bool | None = None, page_size: int = 200
    ) -> AsyncIterator[FileInfo]:
        """Every file, page after page."""
        cursor: str | None = None
        while True:
            page = await self.list_files(cursor=cursor, limit=page_size, mine=mine, trashed=trashed)
            for item in page.items:
                yield item
            if page.next is None:
                return
            cursor = page.next

    async def find_file(self, cid: str, *, folder_id: str | None = None) -> FileInfo | None:
        """One of your files with these bytes (directly in ``folder_id``, if given), or None."""
        page = await self._call(_api.list_files(mine=True, cid=cid, folder_id=folder_id, limit=1))
        return next((f for f in page.items if f.cid == cid), None)

    async def update_file(
        self,
        file_id: str,
        *,
        filename: str | None = None,
        visibility: str | None = None,
        hidden: bool | None = None,
        folder_id: str | None = None,
    ) -> FileInfo:
        """Rename a file or change its visibility (``private`` or ``public``); ``hidden``
        hides or shows someone's public file (moderators and admins); ``folder_id`` moves
        it into that folder (you may write both)."""
        call = _api.update_file(
            file_id, filename=filename, visibility=visibility, hidden=hidden, folder_id=folder_id
        )
        return await self._call(call)

    async def delete_file(self, file_id: str) -> FileInfo:
        """Move a file to the trash (restorable for the server's retention time)."""
        return await self._call(_api.delete_file(file_id))

    async def restore_file(self, file_id: str) -> FileInfo:
        return await self._call(_api.restore_file(file_id))

    async def create_link(self, ref: str, *, expires_in: int | None = None) -> SignedLink:
        """A signed link to a file (by id) or a blob (by CID) that works without signing in."""
        link = await self._call(_api.create_link(ref, expires_in=expires_in))
        if link.url.startswith("/"):
            return SignedLink(url=self.base_url + link.url, expires_at=link.expires_at)
        return link

    async def image_link(
        self,
        file_id: str,
        *,
        width: int | None = None,
        height: int | None = None,
        fit: str | None = None,
        format: str | None = None,
        quality: int | None = None,
        expires_in: int | None = None,
    ) -> SignedLink:
        """A signed URL of an image file resized and converted (``/image``), for a page to
        embed without a token: the server signs the parameters with its link key, key id
        and expiry. Give ``width``, ``height`` or both; ``fit`` is contain, cover or fill,
        ``format`` webp, jpeg, png or avif, ``quality`` 1-100."""
        image = {"w": width, "h": height, "fit": fit, "format": format, "q": quality}
        given = {k: v for k, v in image.items() if v is not None}
        link = await self._call(_api.create_image_link(file_id, given, expires_in=expires_in))
        if link.url.startswith("/"):
            return SignedLink(url=self.base_url + link.url, expires_at=link.expires_at)
        return link

    async def transform(
        self,
        file_id: str,
        kind: str = "ocr",
        *,
        wait: bool = False,
        timeout: float | None = None,  # noqa: ASYNC109 (the same signature as Client's)
        progress: Callable[[Job], None] | None = None,
    ) -> Job:
        """Ask the server for a transformation of a file, as a job: ``ocr`` recognizes the
        text of an image or scanned PDF. With ``wait`` the finished job is returned
        (``JobFailed`` if it failed); its ``result["url"]`` is the text's address."""
        job = await self._call(_api.transform_file(file_id, kind))
        if not wait:
            return job
        return await self.wait_for_job(job.id, timeout=timeout, progress=progress)

    # ------------------------------------------------------------------ uploads

    async def upload(
        self,
        source: Source,
        *,
        filename: str | None = None,
        cid: str | None = None,
        content_type: str | None = None,
        progress: Progress | None = None,
        skip_existing: bool = False,
        folder: str | Folder | None = None,
    ) -> FileInfo:
        """Upload a path or a binary stream without reading it into memory.

        The bytes are hashed first (paths and seekable streams) and the CID is sent as
        ``?cid=``, so the server keeps nothing that does not match. With ``skip_existing``
        a file you already have with the same bytes is returned instead of uploading again
        (in ``folder``, when one is given). ``folder`` (its id or a ``Folder``) is where
        the file goes; by default your own root.
        """
        folder_id = folder.id if isinstance(folder, Folder) else folder
        prepared = await asyncio.to_thread(
            prepare, source, filename=filename, cid=cid, content_type=content_type
        )
        if skip_existing and prepared.cid is not None:
            existing = await self.find_file(prepared.cid, folder_id=folder_id)
            if existing is not None:
                if progress:
                    progress(existing.size, existing.size)
                return existing
        return await self._upload(prepared, progress, folder_id)

    async def fetch(
        self,
        url: str,
        *,
        filename: str | None = None,
        cid: str | None = None,
        wait: bool = False,
        timeout: float | None = None,  # noqa: ASYNC109 (the same signature as Client's)
        progress: Callable[[Job], None] | None = None,
        folder: str | Folder | None = None,
    ) -> Job:
        """Have the server download ``url`` (an ``http(s)://`` link that works without
        signing in) into a new file of yours, as a job; ``filename`` names it, ``cid`` is
        the CID the bytes must have, ``folder`` where it goes (default: your own root).
        With ``wait`` the finished job is returned (``JobFailed`` if it failed); its
        ``result`` names the file (``file_id``, ``cid``): ``get_file(job.result["file_id"])``."""
        folder_id = folder.id if isinstance(folder, Folder) else folder
        call = _api.fetch_file(url, filename=filename, cid=cid, folder_id=folder_id)
        job = await self._call(call)
        if not wait:
            return job
        return await self.wait_for_job(job.id, timeout=timeout, progress=progress)

    async def _upload(
        self, prepared: Prepared, progress: Progress | None, folder_id: str | None = None
    ) -> FileInfo:
        if (
            self.tus_threshold is not None
            and prepared.path is not None
            and prepared.size is not None
            and prepared.size >= self.tus_threshold
        ):
            return await self._upload_resumable(prepared, progress, folder_id)
        reader = Reader(prepared, progress)

        async def body() -> AsyncIterator[bytes]:
            await asyncio.to_thread(reader.open)
            try:
                while chunk := await asyncio.to_thread(reader.read):
                    yield chunk
            finally:
                await asyncio.to_thread(reader.close)

        headers = {"Content-Type": prepared.content_type}
        if prepared.size is not None:
            headers["Content-Length"] = str(prepared.size)
        call = Call(
            "POST",
            "/api/v1/files",
            _api.uploaded,
            params={
                "filename": prepared.filename,
                **({"cid": prepared.cid} if prepared.cid else {}),
                **({"folder_id": folder_id} if folder_id else {}),
            },
            headers=headers,
        )
        replayable = prepared.path is not None or prepared.size is not None
        try:
            files = self._answer(call, await self._send(call, content=body, replayable=replayable))
        except Invalid as exc:
            if await asyncio.to_thread(reader.changed):
                raise MstackError(
                    f"{prepared.path or prepared.filename} changed while it was being uploaded;"
                    " nothing was kept"
                ) from exc
            raise
        finally:
            reader.close()
        file = files[0]
        if file.cid != reader.cid:
            with contextlib.suppress(MstackError):
                await self.delete_file(file.id)
            raise IntegrityError(
                f"the server stored {file.cid} but the bytes sent hash to {reader.cid}; the"
                " upload was moved to the trash",
                expected=reader.cid,
                actual=file.cid,
            )
        return file

    async def _upload_resumable(
        self, prepared: Prepared, progress: Progress | None, folder_id: str | None = None
    ) -> FileInfo:
        """A large file over tus: resumed where an earlier try stopped (its upload URL is
        in ``resume_state``), and after a dropped connection, from the offset the server
        holds; the server checks the whole against the CID hashed before sending."""
        path, size = prepared.path, prepared.size
        assert path is not None
        assert size is not None
        key = await asyncio.to_thread(ResumeState.key, self.base_url, path)
        url = await asyncio.to_thread(self.resume_state.get, key)
        where = await self._tus_where(url) if url is not None else None
        if url is None or where is None:
            url = await self._tus_create(prepared, folder_id)
            await asyncio.to_thread(self.resume_state.set, key, url)
            where = (0, None)
        offset, file_id = where
        failures = 0
        while file_id is None:
            try:
                offset, file_id = await self._tus_send(url, path, offset, size, progress)
                failures = 0
            except ConnectionFailed as exc:
                failures += 1
                if failures > len(RETRY_DELAYS):
                    raise Interrupted(
                        f"the upload of {path} stopped after {offset} bytes ({exc}); run it"
                        " again to resume",
                        received=offset,
                    ) from None
                await asyncio.sleep(RETRY_DELAYS[failures - 1])
                try:
                    where = await self._tus_where(url)
                except ConnectionFailed:
                    continue
                if where is None:
                    await asyncio.to_thread(self.resume_state.forget, key)
                    raise MstackError(
                        f"the server dropped the upload of {path}; run it again"
                    ) from None
                offset, file_id = where
            except Invalid:
                await asyncio.to_thread(self.resume_state.forget, key)
                raise
        await asyncio.to_thread(self.resume_state.forget, key)
        file = await self.get_file(file_id)
        if file.cid != prepared.cid:
            raise IntegrityError(
                f"the server stored {file.cid} for {path}, which hashes to {prepared.cid}",
                expected=prepared.cid or "",
                actual=file.cid,
            )
        if progress:
            progress(size, size)
        return file

    def _tus_path(self, url: str) -> str:
        return url.removeprefix(self.base_url) if url.startswith(self.base_url) else url

    async def _tus_where(self, url: str) -> tuple[int, str | None] | None:
        """(offset, file id once finished) of an upload; None when the server no longer
        has it (expired, ended, or another server's)."""
        call = Call("HEAD", self._tus_path(url), _api.nothing, headers=TUS_HEADERS)
        response = await self._send(call)
        if response.status_code in (404, 410):
            return None
        await acheck_status(response)
        return int(response.headers["upload-offset"]), response.headers.get("upload-file-id")

    async def _tus_create(self, prepared: Prepared, folder_id: str | None = None) -> str:
        headers = {
            **TUS_HEADERS,
            "Upload-Length": str(prepared.size),
            "Upload-Metadata": tus_metadata(prepared, folder_id),
        }
        response = await self._send(Call("POST", "/api/v1/uploads", _api.nothing, headers=headers))
        await acheck_status(response)
        return self._tus_path(response.headers["location"])

    async def _tus_send(
        self, url: str, path: Path, offset: int, size: int, progress: Progress | None
    ) -> tuple[int, str | None]:
        """One PATCH of the rest of the file from ``offset``: the new offset, and the file
        id when that was the end."""
        reader = ChunkReader(path, offset, size, progress)

        async def body() -> AsyncIterator[bytes]:
            reader.offset = offset
            await asyncio.to_thread(reader.open)
            try:
                while chunk := await asyncio.to_thread(reader.read):
                    yield chunk
            finally:
                await asyncio.to_thread(reader.close)

        headers = {
            **TUS_HEADERS,
            "Upload-Offset": str(offset),
            "Content-Type": OFFSET_TYPE,
            "Content-Length": str(size - offset),
        }
        call = Call("PATCH", self._tus_path(url), _api.nothing, headers=headers)
        try:
            response = await self._send(call, content=body)
        finally:
            reader.close()
        if response.status_code == 409 and "upload-offset" not in response.headers:
            where = await self._tus_where(url)  # moved on meanwhile (another try of ours)
            if where is not None:
                return where
        await acheck_status(response)
        return int(response.headers["upload-offset"]), response.headers.get("upload-file-id")

    async def upload_many(
        self,
        sources: Iterable[str | os.PathLike[str]],
        *,
        parallel: int = 4,
        skip_existing: bool = False,
        progress: ManyProgress | None = None,
        hidden: bool = False,
        follow_symlinks: bool = False,
        exclude: Iterable[str] = (),
        folder: str | Folder | None = None,
    ) -> list[UploadResult]:
        """Upload files and folders (walked recursively), ``parallel`` at a time.

        Every file goes straight into ``folder`` (its id or a ``Folder``; by default your
        own root): the local folders are not made there.

        In folders, hidden files and folders (``.git/``) are left out unless ``hidden``,
        and so is what matches an ``exclude`` pattern (gitignore-style: ``*.tmp``,
        ``build/``, ``**/cache``); a symbolic link is followed only to a file inside the
        folder unless ``follow_symlinks`` (even then, a link loop is walked once).
        Never raises for one file's failure: each result holds its file or its error.
        """
        folder_id = folder.id if isinstance(folder, Folder) else folder
        files = await asyncio.to_thread(
            collect_files,
            list(sources),
            hidden=hidden,
            follow_symlinks=follow_symlinks,
            exclude=list(exclude),
        )
        stop = threading.Event()

        async def one(path: Path) -> UploadResult:
            def report(done: int, total: int | None) -> None:
                if stop.is_set():
                    raise MstackError("cancelled")
                if progress:
                    progress(path, done, total)

            try:
                if stop.is_set():
                    raise MstackError("cancelled")
                prepared = await asyncio.to_thread(
                    prepare, path, filename=None, cid=None, content_type=None
                )
                if skip_existing and prepared.cid is not None:
                    existing = await self.find_file(prepared.cid, folder_id=folder_id)
                    if existing is not None:
                        report(existing.size, existing.size)
                        return UploadResult(path, existing, skipped=True)
                return UploadResult(path, await self._upload(prepared, report, folder_id))
            except (MstackError, OSError) as exc:
                return UploadResult(path, error=exc)

        return await amap_bounded(one, files, limit=parallel, stop=stop, name="mstack-upload")

    # ------------------------------------------------------------------ downloads

    async def _resolve(self, ref: str) -> tuple[str, str, str | None]:
        """(CID, content path, filename) of a file id or a CID."""
        if is_cid(ref, RAW):
            return ref, f"/blobs/{ref}", None
        info = await self.get_file(ref)
        return info.cid, f"/api/v1/files/{segment(info.id)}/content", info.filename

    async def download(
        self,
        ref: str,
        dest: str | os.PathLike[str] | IO[bytes],
        *,
        progress: Progress | None = None,
        overwrite: bool = False,
        retries: int = 5,
    ) -> DownloadResult:
        """Download a file (by id) or a blob (by CID) to a path, a folder or a binary stream.

        Every byte is hashed as it arrives. To a path: bytes that do not hash to the CID
        raise ``IntegrityError`` and leave nothing behind; a broken connection is resumed
        with ``Range`` (up to ``retries`` times), and if it still fails the partial file is
        kept so that the next call resumes it. To a stream: a mismatch raises after the
        bytes were written, so discard them.
        """
        cid, path, filename = await self._resolve(ref)
        sink: Sink
        target: Path | None = None
        if isinstance(dest, str | os.PathLike):
            target = Path(dest)
            if target.is_dir():
                target = target / safe_filename(filename, cid)
            sink = await asyncio.to_thread(FileSink, cid, target, overwrite=overwrite)
        else:
            sink = StreamSink(cid, dest)
        try:
            await self._fetch(path, sink, progress, retries)
            if isinstance(sink, FileSink) and sink.resumed_from:
                try:
                    sink.verify()
                except IntegrityError:
                    await asyncio.to_thread(sink.restart)  # the old partial was bad: start over
                    await self._fetch(path, sink, progress, retries)
            resumed_from = sink.resumed_from
            await asyncio.to_thread(sink.finish)
        except IntegrityError:
            await asyncio.to_thread(sink.discard)
            raise
        except BaseException:
            sink.keep()
            raise
        return DownloadResult(cid, sink.offset, target, filename, resumed_from)

    async def _fetch(self, path: str, sink: Sink, progress: Progress | None, retries: int) -> None:
        failures = 0
        while True:
            # ranges and hashes are over the stored bytes: no content coding in between
            headers = {"Accept-Encoding": "identity"}
            if sink.offset:
                headers["Range"] = f"bytes={sink.offset}-"
                headers["If-Range"] = f'"{sink.cid}"'
            try:
                response = await self._send(
                    Call("GET", path, _api.nothing, headers=headers), stream=True
                )
                try:
                    if await self._receive(response, sink, progress):
                        return
                finally:
                    await response.aclose()
            except (httpx.TransportError, ConnectionFailed) as exc:
                failures += 1
                if failures > retries:
                    raise Interrupted(
                        f"the download stopped after {sink.offset} bytes ({exc}); run it again"
                        " to resume",
                        received=sink.offset,
                    ) from None
                await asyncio.sleep(RETRY_DELAYS[min(failures, len(RETRY_DELAYS)) - 1])

    @staticmethod
    async def _receive(response: httpx.Response, sink: Sink, progress: Progress | None) -> bool:
        """Write one response's bytes into the sink; True when the blob is complete."""
        if response.status_code == 416 and sink.offset:
            total = (response.headers.get("content-range") or "").rsplit("/", 1)[-1]
            if total.isdigit() and int(total) == sink.offset:
                return True  # the partial already holds every byte
            if isinstance(sink, FileSink):
                await asyncio.to_thread(sink.restart)
                return False
        await acheck_status(response)
        etag = response.headers.get("etag")
        if etag and not etag.startswith("W/") and etag.strip('"') != sink.cid:
            raise IntegrityError(
                f"the server sent {etag.strip(chr(34))} for {sink.cid}; nothing was kept",
                expected=sink.cid,
                actual=etag.strip('"'),
            )
        skip = 0
        if response.status_code == 206:
            if content_range_start(response.headers.get("content-range")) != sink.offset:
                raise MstackError("the server answered a different range than the one asked for")
        else:
            skip = sink.offset  # the whole body came back: drop what is already here
        total = expected_total(response.headers, response.status_code, sink.offset)
        reported = sink.offset
        if progress:
            progress(reported, total)
        writer = AsyncSinkWriter(sink)
        try:
            async for chunk in response.aiter_bytes():  # as it arrives: a break loses nothing
                if skip:
                    cut = min(skip, len(chunk))
                    chunk, skip = chunk[cut:], skip - cut
                    if not chunk:
                        continue
                await writer.write(chunk)
                if progress and sink.offset - reported >= CHUNK:  # about once a MiB
                    reported = sink.offset
                    progress(reported, total)
        finally:
            writer.close()
        if progress and reported != sink.offset:
            progress(sink.offset, total)
        return True

    # ------------------------------------------------------------------ record blocks

    async def get_object(self, cid: str) -> dict[str, Any]:
        """A record block (a content or version block) by CID, in its JSON form: links as
        ``{"/": cid}``, bytes as ``{"/": {"bytes": base64}}``. ``ValueError`` for a string
        that is not a record block's CID."""
        return await self._call(_api.get_object(cid))

    async def get_object_bytes(self, cid: str) -> bytes:
        """A record block's exact DAG-CBOR bytes, checked against its CID
        (``IntegrityError`` if they do not hash to it)."""
        response = await self._send(_api.get_object(cid, raw=True))
        await acheck_status(response)
        data = response.content
        actual = cid_from_digest(blake3.blake3(data).digest(), DAG_CBOR)
        if actual != cid:
            raise IntegrityError(
                f"the block the server sent for {cid} hashes to {actual}",
                expected=cid,
                actual=actual,
            )
        return data

    async def export(
        self,
        record_id: str,
        dest: str | os.PathLike[str] | IO[bytes],
        *,
        files: bool = False,
        overwrite: bool = False,
    ) -> ExportResult:
        """A record and its whole history as a CAR v1 file (the head version its root), to a
        path or a binary stream; with ``files`` its linked files too, as raw blocks (those
        over 1 MiB are left out and named in the CAR's manifest block). The record's model
        is found from its first version. A path is written whole or not at all."""
        first = await self.get_object(record_id)
        content = first.get("content")
        if first.get("$type") != "mstack/version" or not isinstance(content, dict):
            raise ValueError(f"{record_id} is not a record's id (the CID of its first version)")
        type_name = (await self.get_object(str(content["/"])))["$type"]
        if type_name not in RECORD_PATHS:
            raise ValueError(f"this client does not know records of type {type_name!r}")
        path = f"{RECORD_PATHS[type_name]}/{segment(record_id)}/export.car"
        call = Call("GET", path, _api.nothing, params={"files": 1} if files else None)
        response = await self._send(call, stream=True)
        target: Path | None = None
        try:
            await acheck_status(response)
            if isinstance(dest, str | os.PathLike):
                target = Path(dest)
                if target.exists() and not overwrite:
                    raise FileExistsError(f"{target} exists; pass overwrite to replace it")
                partial = target.with_name(f".{target.name}.part")
                try:
                    with open(partial, "wb") as out:
                        size = await self._write_all(response, out)
                    await asyncio.to_thread(os.replace, partial, target)
                except BaseException:
                    partial.unlink(missing_ok=True)
                    raise
            else:
                size = await self._write_all(response, dest)
        finally:
            await response.aclose()
        return ExportResult(
            record_id=record_id,
            root=(response.headers.get("etag") or "").strip('"').split(".")[0],
            size=size,
            path=target,
            omitted_files=int(response.headers.get("x-mstack-omitted-files") or 0),
        )

    @staticmethod
    async def _write_all(response: httpx.Response, out: IO[bytes]) -> int:
        """Write a streamed body into ``out`` as it arrives; the number of bytes."""
        size = 0
        async for chunk in response.aiter_bytes():
            await asyncio.to_thread(out.write, chunk)
            size += len(chunk)
        return size

    # ------------------------------------------------------------------ follows and feeds

    async def follow(self, profile_id: str, *, as_profile: str | None = None) -> FollowCounts:
        """Your profile ``as_profile`` (None: your only one) follows ``profile_id``; again
        changes nothing. The
        followed profile's counts."""
        return await self._call(_api.follow(profile_id, as_profile=as_profile))

    async def unfollow(self, profile_id: str, *, as_profile: str | None = None) -> FollowCounts:
        """Your profile ``as_profile`` (None: your only one) no longer follows ``profile_id``."""
        return await self._call(_api.unfollow(profile_id, as_profile=as_profile))

    async def follow_counts(self, profile_id: str) -> FollowCounts:
        return await self._call(_api.follow_counts(profile_id))

    async def profile_feed(
        self,
        profile_id: str,
        *,
        cursor: str | None = None,
        limit: int | None = None,
        tag: str | None = None,
    ) -> Page[Record]:
        """A profile's posts that you may read, newest first, a page at a time."""
        return await self._call(
            _api.feed("profile", profile_id, _post, cursor=cursor, limit=limit, tag=tag)
        )

    async def following_feed(
        self,
        profile_id: str | None = None,
        *,
        cursor: str | None = None,
        limit: int | None = None,
        tag: str | None = None,
    ) -> Page[Record]:
        """The posts of the profiles your profile ``profile_id`` follows (None: that any
        profile of yours follows), newest first."""
        return await self._call(
            _api.feed("following", profile_id, _post, cursor=cursor, limit=limit, tag=tag)
        )

    async def group_feed(
        self,
        profile_group_id: str,
        *,
        cursor: str | None = None,
        limit: int | None = None,
        tag: str | None = None,
    ) -> Page[Record]:
        """The posts of a group of profiles' members, newest first."""
        return await self._call(
            _api.feed("group", profile_group_id, _post, cursor=cursor, limit=limit, tag=tag)
        )

    async def watch_feed(
        self,
        kind: str,
        owner_id: str | None,
        *,
        after: Record | None = None,
        tag: str | None = None,
        poll: float = 2.0,
    ) -> AsyncIterator[Record]:
        """New posts of a feed (``kind``: ``profile``, ``following`` or ``group``), oldest
        first, as they appear: posts send no events, so it reads the feed's newest page
        every ``poll`` seconds. New means created after ``after`` (such as the newest post
        of the page you showed; None: every post in the feed is new), in the feed's order
        of creation; an edit is not new. At most the newest 500 a poll."""
        mark = (after.created_at, after.id) if after is not None else None
        while True:
            fresh: list[Record] = []
            cursor: str | None = None
            for _ in range(WATCH_PAGES):
                page = await self._call(
                    _api.feed(kind, owner_id, _post, cursor=cursor, limit=50, tag=tag)
                )
                newer = [p for p in page.items if mark is None or (p.created_at, p.id) > mark]
                fresh += newer
                if page.next is None or len(newer) < len(page.items):
                    break
                cursor = page.next
            for post in reversed(fresh):
                yield post
            if fresh:
                mark = (fresh[0].created_at, fresh[0].id)
            await asyncio.sleep(poll)

    # ------------------------------------------------------------------ conversations

    async def create_conversation(
        self, members: list[str], *, name: str | None = None
    ) -> Conversation:
        """Talk with these accounts (ids): one and no ``name`` is a private conversation (the
        existing one, if the two have one); a ``name`` or more make a group you administer."""
        return await self._call(_api.create_conversation(members, name=name))

    async def list_conversations(
        self, *, cursor: str | None = None, limit: int | None = None
    ) -> Page[Conversation]:
        """Your conversations, the most recently active first, with unread counts."""
        return await self._call(_api.list_conversations(cursor=cursor, limit=limit))

    async def get_conversation(self, conversation_id: str) -> Conversation:
        return await self._call(_api.get_conversation(conversation_id))

    async def add_member(
        self, conversation_id: str, user_id: str, *, role: str | None = None
    ) -> Conversation:
        return await self._call(_api.add_member(conversation_id, user_id, role=role))

    async def remove_member(self, conversation_id: str, user_id: str) -> None:
        """Remove a member (an admin's right), or leave with your own id."""
        await self._call(_api.remove_member(conversation_id, user_id))

    async def send_message(
        self, conversation_id: str, text: str, *, attachments: list[str] | None = None
    ) -> Message:
        """Send text, and files by CID that every member may read."""
        return await self._call(_api.send_message(conversation_id, text, attachments=attachments))

    async def list_messages(
        self,
        conversation_id: str,
        *,
        cursor: str | None = None,
        limit: int | None = None,
        q: str | None = None,
    ) -> Page[Message]:
        """A page of history, newest first; ``q`` keeps the messages whose text contains it."""
        return await self._call(
            _api.list_messages(conversation_id, cursor=cursor, limit=limit, q=q)
        )

    async def edit_message(self, conversation_id: str, message_id: str, text: str) -> Message:
        return await self._call(_api.edit_message(conversation_id, message_id, text))

    async def delete_message(self, conversation_id: str, message_id: str) -> Message:
        return await self._call(_api.delete_message(conversation_id, message_id))

    async def mark_read(self, conversation_id: str, message_id: str) -> Conversation:
        """Move your read marker forward to this message."""
        return await self._call(_api.mark_read(conversation_id, message_id))

    async def block(self, user_id: str) -> None:
        """Hear nothing more from this account."""
        await self._call(_api.block(user_id))

    async def unblock(self, user_id: str) -> None:
        await self._call(_api.unblock(user_id))

    async def follow_messages(
        self, conversation_id: str, *, since: int | None = None
    ) -> AsyncIterator[Message]:
        """New messages of one conversation, oldest first, as they arrive on the events
        socket. With ``since`` (a message's ``seq``, such as the newest of the history you
        read), those sent after it while the socket was not yet following come first, from
        the history: none is missed, none comes twice."""
        last = since
        async for event in self.events(ready=since is not None):
            if event.type == "ready":
                assert last is not None
                for message in await self._messages_after(conversation_id, last):
                    last = message.seq
                    yield message
                continue
            data = event.data
            if event.type == "message.created" and data.get("conversation_id") == conversation_id:
                message = Message.from_json(data["message"])
                if last is None or message.seq > last:
                    last = message.seq if last is not None else None
                    yield message

    async def _messages_after(self, conversation_id: str, seq: int) -> list[Message]:
        """The conversation's messages after ``seq``, oldest first."""
        found: list[Message] = []
        cursor: str | None = None
        while True:
            page = await self.list_messages(conversation_id, cursor=cursor, limit=200)
            newer = [m for m in page.items if m.seq > seq]
            found += newer
            if page.next is None or len(newer) < len(page.items):
                return sorted(found, key=lambda m: m.seq)
            cursor = page.next

    # ------------------------------------------------------------------ jobs and events

    async def get_job(self, job_id: str) -> Job:
        return await self._call(_api.get_job(job_id))

    @overload
    async def wait_for_job(
        self,
        job_id: str,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 (the same signature as Client's)
        poll: float = 0.2,
        progress: Callable[[Job], None] | None = None,
        raise_on_failure: bool = True,
    ) -> Job: ...

    @overload
    async def wait_for_job(
        self,
        job_id: str | FileInfo | None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 (the same signature as Client's)
        poll: float = 0.2,
        progress: Callable[[Job], None] | None = None,
        raise_on_failure: bool = True,
    ) -> Job | None: ...

    async def wait_for_job(
        self,
        job_id: str | FileInfo | None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 (the same signature as Client's)
        poll: float = 0.2,
        progress: Callable[[Job], None] | None = None,
        raise_on_failure: bool = True,
    ) -> Job | None:
        """Wait until a job has succeeded or failed; ``JobFailed`` when it failed.

        Takes a job's id, or a file (its ``job_id``): a file with no job (text files are
        not processed) or None returns None at once, so ``wait_for_job(file.job_id)``
        works for any upload.
        """
        if isinstance(job_id, FileInfo):
            job_id = job_id.job_id
        if job_id is None:
            return None
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = poll
        while True:
            job = await self.get_job(job_id)
            if progress:
                progress(job)
            if job.finished:
                if job.state == "failed" and raise_on_failure:
                    raise JobFailed(
                        f"job {job.id} failed: {job.error or 'no reason given'}", job=job
                    )
                return job
            if deadline is not None and time.monotonic() + delay > deadline:
                raise TimeoutError(f"job {job_id} did not finish within {timeout} s")
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 2.0)

    async def events(
        self, *, after: int | None = None, reconnect: bool = True, ready: bool = False
    ) -> AsyncIterator[Event]:
        """Live events of the signed-in user from ``WS /api/v1/events``.

        The token goes in the first message, never in the URL. After a broken connection
        it reconnects and asks for what it missed (``after`` the last sequence number seen).
        A ``reset`` event means the missed history is gone: reload your state. With
        ``ready``, each (re)connection's ``ready`` comes too, once the socket follows.
        """
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

        last = after
        failures = 0
        refreshed = False
        while True:
            if self._should_refresh_soon():
                await self._refresh(self._credential())
            token = self._credential()
            try:
                async with connect(
                    self._ws_url("/api/v1/events"), user_agent_header=USER_AGENT, open_timeout=10
                ) as socket:
                    await socket.send(
                        json.dumps({"type": "auth", "token": token or "", "after": last})
                    )
                    async for raw in socket:
                        message = json.loads(raw)
                        kind = message.get("type")
                        if kind == "ready":
                            failures = 0
                            refreshed = False
                            if isinstance(message.get("seq"), int):
                                last = message["seq"]
                            if ready:
                                yield Event.from_json(message)
                            continue
                        event = Event.from_json(message)
                        if event.seq is not None:
                            last = event.seq
                        yield event
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd is not None else None
                reason = exc.rcvd.reason if exc.rcvd is not None else ""
                if code == 4401:
                    if not refreshed and self._can_refresh():
                        refreshed = True
                        await self._refresh(token)
                        continue
                    raise Unauthorized(
                        reason or "the events socket refused the credentials", status=401
                    ) from None
                if code == 4403:
                    raise Unauthorized(
                        reason or "the session has ended; sign in again", status=401
                    ) from None
            except InvalidStatus as exc:
                if exc.response.status_code == 404:
                    raise NotFound(f"{self.base_url} has no events socket", status=404) from None
                failures += 1
            except (InvalidHandshake, OSError):
                failures += 1
            if not reconnect:
                return
            await asyncio.sleep(RETRY_DELAYS[min(failures, len(RETRY_DELAYS) - 1)])
