"""``Client``: the synchronous SDK (``AsyncClient`` has the same methods, awaited)."""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any, TypeVar

import httpx

from mstack_client import _api
from mstack_client._core import (
    DEFAULT_TIMEOUT,
    USER_AGENT,
    Base,
    Call,
    TokenStore,
    check_status,
    segment,
)
from mstack_client._generated.sdk import Models
from mstack_client._transfer import (
    CHUNK,
    RETRY_DELAYS,
    FileSink,
    Prepared,
    Progress,
    Reader,
    Sink,
    Source,
    StreamSink,
    collect_files,
    content_range_start,
    expected_total,
    prepare,
    safe_filename,
)
from mstack_client.cid import RAW, is_cid
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
    DownloadResult,
    Event,
    FileInfo,
    Job,
    Page,
    SignedLink,
    Tokens,
    UploadResult,
    User,
)

T = TypeVar("T")

ManyProgress = Callable[[Path, int, int | None], None]
"""Called with (file, bytes done, file size) as each file of ``upload_many`` moves."""


class Client(Models, Base):
    """A synchronous mstack client. Thread-safe; use it as a context manager or ``close()`` it.

    Credentials: ``api_key=``, or ``login()`` (tokens refresh by themselves), or ``tokens=``
    from an earlier session; a ``token_store`` keeps them between runs. Each record model
    is an attribute with the same methods: ``client.artists.create(...)``, ``.list()``, ...
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        api_key: str | None = None,
        tokens: Tokens | None = None,
        token_store: TokenStore | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        verify: bool | str = True,
    ) -> None:
        super().__init__(base_url, api_key=api_key, tokens=tokens, token_store=token_store)
        self._http = httpx.Client(
            timeout=timeout,
            transport=transport or httpx.HTTPTransport(retries=2, verify=verify),
            headers={"User-Agent": USER_AGENT},
        )
        self._refresh_lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ sending

    def _send(
        self,
        call: Call[Any],
        *,
        content: Callable[[], Iterable[bytes]] | None = None,
        stream: bool = False,
        replayable: bool = True,
    ) -> httpx.Response:
        """Send a call with credentials; on a 401 refresh the session once and try again."""
        if call.auth and self._should_refresh_soon():
            self._refresh(self._credential())
        for attempt in range(2):
            used = self._credential() if call.auth else None
            headers = {"Authorization": f"Bearer {used}"} if used else {}
            request = self._http.build_request(
                **self._request(call, headers), content=content() if content else None
            )
            try:
                response = self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                raise self._connection_failed(exc) from None
            if (
                response.status_code == 401
                and attempt == 0
                and used is not None
                and replayable
                and self._can_refresh()
            ):
                response.close()
                self._refresh(used)
                continue
            return response
        raise AssertionError("unreachable")

    def _call(self, call: Call[T]) -> T:
        return self._answer(call, self._send(call))

    def _refresh(self, used: str | None) -> Tokens | None:
        """Swap the refresh token for new tokens, once, whoever in this process asks first."""
        with self._refresh_lock:
            tokens = self._tokens
            if tokens is None or tokens.refresh_token is None:
                return tokens
            if used is not None and tokens.access_token != used:
                return tokens  # another thread refreshed while this one waited
            with self.token_store.lock():
                stored = self.token_store.load()
                if stored is not None and stored.refresh_token != tokens.refresh_token:
                    self._adopt(stored)  # another process refreshed: its tokens are current
                    return stored
                call = self._refresh_call(tokens.refresh_token)
                try:
                    new = self._answer(call, self._send(call))
                except Unauthorized:
                    self.token_store.save(None)  # the session is over: its tokens are useless
                    self._adopt(None)
                    raise
                self.token_store.save(new)
                self._adopt(new)
                return new

    # ------------------------------------------------------------------ accounts

    def health(self) -> dict[str, Any]:
        """The server's liveness answer."""
        return self._call(_api.health())

    def login(
        self, *, email: str | None = None, username: str | None = None, password: str
    ) -> Tokens:
        """Sign in with an email or a username and the password; later calls use the session."""
        tokens = self._call(_api.login(email=email, username=username, password=password))
        with self.token_store.lock():
            self.token_store.save(tokens)
        self.api_key = None
        self._adopt(tokens)
        return tokens

    def refresh(self) -> Tokens:
        """Swap the refresh token for new tokens now (it also happens by itself)."""
        tokens = self._refresh(self._credential())
        if tokens is None:
            raise Unauthorized("not signed in with a session: there is nothing to refresh")
        return tokens

    def logout(self) -> None:
        """End the session on the server and forget its tokens."""
        try:
            if self._tokens is not None:
                self._call(_api.logout())
        except Unauthorized:
            pass  # already over
        finally:
            with self.token_store.lock():
                self.token_store.save(None)
            self._adopt(None)

    def me(self) -> User:
        """The signed-in account."""
        return self._call(_api.me())

    # ------------------------------------------------------------------ file records

    def get_file(self, file_id: str) -> FileInfo:
        return self._call(_api.get_file(file_id))

    def list_files(
        self,
        *,
        cursor: str | None = None,
        limit: int | None = None,
        mine: bool | None = None,
        trashed: bool | None = None,
    ) -> Page[FileInfo]:
        """One page of files, newest first; ``next`` is the cursor of the following page."""
        return self._call(_api.list_files(cursor=cursor, limit=limit, mine=mine, trashed=trashed))

    def iter_files(
        self, *, mine: bool | None = None, trashed: bool | None = None, page_size: int = 200
    ) -> Iterator[FileInfo]:
        """Every file, page after page."""
        cursor: str | None = None
        while True:
            page = self.list_files(cursor=cursor, limit=page_size, mine=mine, trashed=trashed)
            yield from page.items
            if page.next is None:
                return
            cursor = page.next

    def find_file(self, cid: str) -> FileInfo | None:
        """One of your files with these bytes, or None."""
        page = self._call(_api.list_files(mine=True, cid=cid, limit=1))
        return next((f for f in page.items if f.cid == cid), None)

    def update_file(
        self,
        file_id: str,
        *,
        filename: str | None = None,
        visibility: str | None = None,
        hidden: bool | None = None,
    ) -> FileInfo:
        """Rename a file or change its visibility (``private`` or ``public``); ``hidden``
        hides or shows someone's public file (moderators and admins)."""
        call = _api.update_file(file_id, filename=filename, visibility=visibility, hidden=hidden)
        return self._call(call)

    def delete_file(self, file_id: str) -> FileInfo:
        """Move a file to the trash (restorable for the server's retention time)."""
        return self._call(_api.delete_file(file_id))

    def restore_file(self, file_id: str) -> FileInfo:
        return self._call(_api.restore_file(file_id))

    def create_link(self, ref: str, *, expires_in: int | None = None) -> SignedLink:
        """A signed link to a file (by id) or a blob (by CID) that works without signing in."""
        link = self._call(_api.create_link(ref, expires_in=expires_in))
        if link.url.startswith("/"):
            return SignedLink(url=self.base_url + link.url, expires_at=link.expires_at)
        return link

    # ------------------------------------------------------------------ uploads

    def upload(
        self,
        source: Source,
        *,
        filename: str | None = None,
        cid: str | None = None,
        content_type: str | None = None,
        progress: Progress | None = None,
        skip_existing: bool = False,
    ) -> FileInfo:
        """Upload a path or a binary stream without reading it into memory.

        The bytes are hashed first (paths and seekable streams) and the CID is sent as
        ``?cid=``, so the server keeps nothing that does not match. With ``skip_existing``
        a file you already have with the same bytes is returned instead of uploading again.
        """
        prepared = prepare(source, filename=filename, cid=cid, content_type=content_type)
        if skip_existing and prepared.cid is not None:
            existing = self.find_file(prepared.cid)
            if existing is not None:
                if progress:
                    progress(existing.size, existing.size)
                return existing
        return self._upload(prepared, progress)

    def _upload(self, prepared: Prepared, progress: Progress | None) -> FileInfo:
        reader = Reader(prepared, progress)
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
            },
            headers=headers,
        )
        replayable = prepared.path is not None or prepared.size is not None
        try:
            files = self._answer(
                call, self._send(call, content=lambda: iter(reader), replayable=replayable)
            )
        except Invalid as exc:
            if reader.changed():
                raise MstackError(
                    f"{prepared.path or prepared.filename} changed while it was being uploaded;"
                    " nothing was kept"
                ) from exc
            raise
        finally:
            reader.close()
        file = files[0]
        if file.cid != reader.cid:
            self._discard_mismatch(file)
            raise IntegrityError(
                f"the server stored {file.cid} but the bytes sent hash to {reader.cid}; the"
                " upload was moved to the trash",
                expected=reader.cid,
                actual=file.cid,
            )
        return file

    def _discard_mismatch(self, file: FileInfo) -> None:
        with contextlib.suppress(MstackError):
            self.delete_file(file.id)

    def upload_many(
        self,
        sources: Iterable[str | os.PathLike[str]],
        *,
        parallel: int = 4,
        skip_existing: bool = False,
        progress: ManyProgress | None = None,
    ) -> list[UploadResult]:
        """Upload files and folders (walked recursively), ``parallel`` at a time.

        Never raises for one file's failure: each result holds its file or its error.
        """
        files = collect_files(sources)
        stop = threading.Event()

        def one(path: Path) -> UploadResult:
            def report(done: int, total: int | None) -> None:
                if stop.is_set():
                    raise MstackError("cancelled")
                if progress:
                    progress(path, done, total)

            try:
                if stop.is_set():
                    raise MstackError("cancelled")
                prepared = prepare(path, filename=None, cid=None, content_type=None)
                if skip_existing and prepared.cid is not None:
                    existing = self.find_file(prepared.cid)
                    if existing is not None:
                        report(existing.size, existing.size)
                        return UploadResult(path, existing, skipped=True)
                return UploadResult(path, self._upload(prepared, report))
            except (MstackError, OSError) as exc:
                return UploadResult(path, error=exc)

        with ThreadPoolExecutor(
            max_workers=max(1, parallel), thread_name_prefix="mstack-upload"
        ) as pool:
            try:
                return list(pool.map(one, files))
            except BaseException:
                stop.set()
                pool.shutdown(wait=True, cancel_futures=True)
                raise

    # ------------------------------------------------------------------ downloads

    def _resolve(self, ref: str) -> tuple[str, str, str | None]:
        """(CID, content path, filename) of a file id or a CID."""
        if is_cid(ref, RAW):
            return ref, f"/blobs/{ref}", None
        info = self.get_file(ref)
        return info.cid, f"/api/v1/files/{segment(info.id)}/content", info.filename

    def download(
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
        cid, path, filename = self._resolve(ref)
        sink: Sink
        target: Path | None = None
        if isinstance(dest, str | os.PathLike):
            target = Path(dest)
            if target.is_dir():
                target = target / safe_filename(filename, cid)
            sink = FileSink(cid, target, overwrite=overwrite)
        else:
            sink = StreamSink(cid, dest)
        try:
            self._fetch(path, sink, progress, retries)
            if isinstance(sink, FileSink) and sink.resumed_from:
                try:
                    sink.verify()
                except IntegrityError:
                    sink.restart()  # the old partial was bad: start over once
                    self._fetch(path, sink, progress, retries)
            resumed_from = sink.resumed_from
            sink.finish()
        except IntegrityError:
            sink.discard()
            raise
        except BaseException:
            sink.keep()
            raise
        return DownloadResult(cid, sink.offset, target, filename, resumed_from)

    def _fetch(self, path: str, sink: Sink, progress: Progress | None, retries: int) -> None:
        failures = 0
        while True:
            # ranges and hashes are over the stored bytes: no content coding in between
            headers = {"Accept-Encoding": "identity"}
            if sink.offset:
                headers["Range"] = f"bytes={sink.offset}-"
                headers["If-Range"] = f'"{sink.cid}"'
            try:
                response = self._send(Call("GET", path, _api.nothing, headers=headers), stream=True)
                try:
                    if self._receive(response, sink, progress):
                        return
                finally:
                    response.close()
            except (httpx.TransportError, ConnectionFailed) as exc:
                failures += 1
                if failures > retries:
                    raise Interrupted(
                        f"the download stopped after {sink.offset} bytes ({exc}); run it again"
                        " to resume",
                        received=sink.offset,
                    ) from None
                time.sleep(RETRY_DELAYS[min(failures, len(RETRY_DELAYS)) - 1])

    @staticmethod
    def _receive(response: httpx.Response, sink: Sink, progress: Progress | None) -> bool:
        """Write one response's bytes into the sink; True when the blob is complete."""
        if response.status_code == 416 and sink.offset:
            total = (response.headers.get("content-range") or "").rsplit("/", 1)[-1]
            if total.isdigit() and int(total) == sink.offset:
                return True  # the partial already holds every byte
            if isinstance(sink, FileSink):
                sink.restart()
                return False
        check_status(response)
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
        for chunk in response.iter_bytes():  # as it arrives: a break loses nothing received
            if skip:
                cut = min(skip, len(chunk))
                chunk, skip = chunk[cut:], skip - cut
                if not chunk:
                    continue
            sink.write(chunk)
            if progress and sink.offset - reported >= CHUNK:  # about once a MiB
                reported = sink.offset
                progress(reported, total)
        if progress and reported != sink.offset:
            progress(sink.offset, total)
        return True

    # ------------------------------------------------------------------ jobs and events

    def get_job(self, job_id: str) -> Job:
        return self._call(_api.get_job(job_id))

    def wait_for_job(
        self,
        job_id: str,
        *,
        timeout: float | None = None,
        poll: float = 0.2,
        progress: Callable[[Job], None] | None = None,
        raise_on_failure: bool = True,
    ) -> Job:
        """Wait until a job has succeeded or failed; ``JobFailed`` when it failed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = poll
        while True:
            job = self.get_job(job_id)
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
            time.sleep(delay)
            delay = min(delay * 1.5, 2.0)

    def events(self, *, after: int | None = None, reconnect: bool = True) -> Iterator[Event]:
        """Live events of the signed-in user from ``WS /api/v1/events``.

        The token goes in the first message, never in the URL. After a broken connection
        it reconnects and asks for what it missed (``after`` the last sequence number seen).
        A ``reset`` event means the missed history is gone: reload your state.
        """
        from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
        from websockets.sync.client import connect

        last = after
        failures = 0
        refreshed = False
        while True:
            if self._should_refresh_soon():
                self._refresh(self._credential())
            token = self._credential()
            try:
                with connect(
                    self._ws_url("/api/v1/events"),
                    user_agent_header=USER_AGENT,
                    open_timeout=10,
                ) as socket:
                    socket.send(json.dumps({"type": "auth", "token": token or "", "after": last}))
                    for raw in socket:
                        message = json.loads(raw)
                        kind = message.get("type")
                        if kind == "ready":
                            failures = 0
                            refreshed = False
                            if isinstance(message.get("seq"), int):
                                last = message["seq"]
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
                        self._refresh(token)
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
            except InvalidHandshake:
                failures += 1
            except OSError:
                failures += 1
            if not reconnect:
                return
            time.sleep(RETRY_DELAYS[min(failures, len(RETRY_DELAYS) - 1)])
