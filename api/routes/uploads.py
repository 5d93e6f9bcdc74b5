"""Resumable uploads: the tus 1.0 protocol at ``/api/v1/uploads``.

Core protocol plus the creation, creation-with-upload, termination, expiration and
checksum extensions (``mcore.uploads.resumable`` does the work). Authentication is the
rest of the API's: a bearer token or API key, or the browser's session cookie with its
CSRF token on the requests that change something. Every answer carries
``Tus-Resumable``; a finished upload's carry ``Upload-File-Id`` and ``Upload-Cid`` (the
file record it became), and ``GET`` gives its state and that record as JSON.
"""

from __future__ import annotations

import contextlib
from email.utils import format_datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post, route
from litestar.datastructures import State
from litestar.params import PathParameter
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from pydantic import BaseModel

from api.deps import App, AppSettings, CurrentActor, Store
from api.openapi import doc
from api.options import EXTRA_HEADERS
from api.state import app_state
from api.upload import body_chunks
from mcore.access import Actor
from mcore.errors import BadRequest, PreconditionFailed, UnsupportedType
from mcore.files.models import FileRead, to_read
from mcore.uploads import resumable
from mcore.uploads.models import Upload

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,termination,expiration,checksum"
OFFSET_TYPE = "application/offset+octet-stream"
UploadId = Annotated[str, PathParameter(description="The upload's id (from `Location`)")]


class UploadState(BaseModel):
    """An upload's state: how much of it the server holds, and what it became."""

    id: str
    length: int
    offset: int
    filename: str
    expires_at: str
    file: FileRead | None = None


def tus_headers(app: ASGIApp) -> ASGIApp:
    """Add ``Tus-Resumable`` to every answer of these routes (error answers too), and
    ``Tus-Version`` to a 412 (the version the client asked for is not spoken here)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (b"tus-resumable", TUS_VERSION.encode())]
                if message["status"] == 412:
                    headers.append((b"tus-version", TUS_VERSION.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, sending)

    return middleware


async def _options_headers(scope: Scope) -> list[tuple[bytes, bytes]]:
    """What OPTIONS on these paths advertises (``api.options`` answers it)."""
    settings = await app_state(scope["litestar_app"].state).runtime.current()
    return [
        (b"tus-resumable", TUS_VERSION.encode()),
        (b"tus-version", TUS_VERSION.encode()),
        (b"tus-extension", EXTENSIONS.encode()),
        (b"tus-max-size", str(settings.max_upload_size).encode()),
        (b"tus-checksum-algorithm", ",".join(resumable.CHECKSUMS).encode()),
    ]


EXTRA_HEADERS["/api/v1/uploads"] = _options_headers
EXTRA_HEADERS["/api/v1/uploads/{upload_id}"] = _options_headers


def _require_version(request: Request[Any, Any, State]) -> None:
    given = request.headers.get("tus-resumable")
    if given != TUS_VERSION:
        raise PreconditionFailed(
            f"send 'Tus-Resumable: {TUS_VERSION}' (this server speaks tus {TUS_VERSION})"
        )


def _whole_number(request: Request[Any, Any, State], name: str) -> int | None:
    value = request.headers.get(name)
    if value is None:
        return None
    if not value.strip().isdigit():
        raise BadRequest(f"{name} must be a whole number of bytes, not {value!r}")
    return int(value)


def _expires(upload: Upload) -> str:
    return format_datetime(upload.expires_at, usegmt=True)


def _state_headers(upload: Upload) -> dict[str, str]:
    headers = {
        "Upload-Offset": str(upload.offset),
        "Upload-Length": str(upload.length),
        "Upload-Expires": _expires(upload),
        "Cache-Control": "no-store",
    }
    if upload.metadata_header:
        headers["Upload-Metadata"] = upload.metadata_header
    if upload.file_id is not None and upload.cid is not None:
        headers["Upload-File-Id"] = upload.file_id
        headers["Upload-Cid"] = upload.cid
    return headers


def _location(upload: Upload) -> str:
    return f"/api/v1/uploads/{upload.id}"


def _media_type(request: Request[Any, Any, State]) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def _append(
    request: Request[Any, Any, State],
    app_state: App,
    store: Store,
    settings: AppSettings,
    actor: Actor,
    upload: Upload,
    offset: int,
) -> Upload:
    if _media_type(request) != OFFSET_TYPE:
        raise UnsupportedType(f"send the bytes with 'Content-Type: {OFFSET_TYPE}'")
    return await resumable.append(
        app_state.db,
        store,
        settings,
        actor=actor,
        upload_id=upload.id,
        offset=offset,
        chunks=body_chunks(request),
        length=_whole_number(request, "content-length"),
        checksum=resumable.parse_checksum(request.headers.get("upload-checksum")),
    )


class UploadsController(Controller):
    path = "/api/v1/uploads"
    tags = ["uploads"]  # noqa: RUF012 (Litestar reads it as a class attribute)
    middleware = [tus_headers]  # noqa: RUF012

    @post(
        "/",
        status_code=201,
        request_max_body_size=None,
        summary="Create a resumable upload (tus)",
        opt=doc("uploads_create", 409, 412, 415, 460, 507),
        description=(
            "tus 1.0 creation: `Upload-Length` (required; checked against"
            " `max_upload_size` before any byte is accepted: 413) and `Upload-Metadata`"
            " (`filename`, `filetype`, `folder_id`, `cid`: the CID the bytes must have, 422"
            " on a mismatch). 201 with `Location`. With `Content-Type:"
            " application/offset+octet-stream` the body is the first bytes"
            " (creation-with-upload), and `Upload-Offset` says how many were kept."
        ),
    )
    async def create(
        self,
        request: Request[Any, Any, State],
        app_state: App,
        store: Store,
        settings: AppSettings,
        actor: CurrentActor,
    ) -> Response[None]:
        _require_version(request)
        if request.headers.get("upload-defer-length") is not None:
            raise BadRequest("Upload-Defer-Length is not supported: send Upload-Length")
        length = _whole_number(request, "upload-length")
        if length is None:
            raise BadRequest("send Upload-Length: the size of the whole upload in bytes")
        metadata = resumable.parse_metadata(request.headers.get("upload-metadata"))
        with_body = request.headers.get("content-type") is not None and (
            _whole_number(request, "content-length") != 0
        )
        if with_body and _media_type(request) != OFFSET_TYPE:
            raise UnsupportedType(f"send the first bytes with 'Content-Type: {OFFSET_TYPE}'")
        upload = await resumable.create_upload(
            app_state.db, store, settings, actor=actor, length=length, metadata=metadata
        )
        if with_body and length:
            try:
                upload = await _append(request, app_state, store, settings, actor, upload, 0)
            except BaseException:
                # the client never learnt where the upload is: nothing of it is kept
                with contextlib.suppress(Exception):
                    await resumable.terminate(
                        app_state.db, settings, actor=actor, upload_id=upload.id
                    )
                raise
        headers = _state_headers(upload)
        headers.pop("Cache-Control")
        headers["Location"] = _location(upload)
        return Response(None, status_code=201, headers=headers)

    @route(
        "/{upload_id:str}",
        http_method=["HEAD"],
        status_code=200,
        summary="How much of an upload the server holds (tus)",
        opt=doc("uploads_head", 410, 412),
    )
    async def head(
        self,
        request: Request[Any, Any, State],
        app_state: App,
        actor: CurrentActor,
        upload_id: UploadId,
    ) -> Response[None]:
        """`Upload-Offset` is where to resume; a finished upload also has `Upload-File-Id`
        and `Upload-Cid`."""
        _require_version(request)
        upload = await resumable.get_upload(app_state.db, actor=actor, upload_id=upload_id)
        return Response(None, status_code=200, headers=_state_headers(upload))

    @get(
        "/{upload_id:str}",
        summary="An upload's state, and the file it became",
        opt=doc("uploads_get", 410),
    )
    async def state(
        self, app_state: App, actor: CurrentActor, upload_id: UploadId
    ) -> Response[UploadState]:
        """The same as `HEAD`, as JSON, with the file record once the upload is finished
        (no `Tus-Resumable` needed)."""
        upload = await resumable.get_upload(app_state.db, actor=actor, upload_id=upload_id)
        file = await resumable.upload_file(app_state.db, upload)
        body = UploadState(
            id=upload.id,
            length=upload.length,
            offset=upload.offset,
            filename=upload.filename,
            expires_at=upload.expires_at.isoformat(),
            file=to_read(file, actor_id=actor.id) if file is not None else None,
        )
        return Response(body, headers=_state_headers(upload))

    @patch(
        "/{upload_id:str}",
        status_code=204,
        request_max_body_size=None,
        summary="Send bytes of an upload (tus)",
        opt=doc("uploads_patch", 409, 410, 412, 415, 460, 507),
        description=(
            "tus 1.0: `Content-Type: application/offset+octet-stream`, `Upload-Offset` (where"
            " the upload is: 409 otherwise) and the bytes; optionally `Upload-Checksum:"
            " <algorithm> <base64 digest>` of this body (460 on a mismatch, the bytes"
            " dropped). 204 with the new `Upload-Offset`; the request that brings the last"
            " byte records the file (limits, type, dedupe, processing) and its answer"
            " carries `Upload-File-Id` and `Upload-Cid`."
        ),
    )
    async def append(
        self,
        request: Request[Any, Any, State],
        app_state: App,
        store: Store,
        settings: AppSettings,
        actor: CurrentActor,
        upload_id: UploadId,
    ) -> Response[None]:
        _require_version(request)
        offset = _whole_number(request, "upload-offset")
        if offset is None:
            raise BadRequest("send Upload-Offset: where in the upload these bytes go")
        upload = await resumable.get_upload(app_state.db, actor=actor, upload_id=upload_id)
        upload = await _append(request, app_state, store, settings, actor, upload, offset)
        headers = _state_headers(upload)
        headers.pop("Upload-Length")
        headers.pop("Upload-Metadata", None)
        return Response(None, status_code=204, headers=headers)

    @delete(
        "/{upload_id:str}",
        status_code=204,
        summary="End an upload and drop its bytes (tus termination)",
        opt=doc("uploads_delete", 412),
    )
    async def terminate(
        self,
        request: Request[Any, Any, State],
        app_state: App,
        settings: AppSettings,
        actor: CurrentActor,
        upload_id: UploadId,
    ) -> None:
        """A finished upload's file record stays (delete it at `/api/v1/files/{id}`)."""
        _require_version(request)
        await resumable.terminate(app_state.db, settings, actor=actor, upload_id=upload_id)
