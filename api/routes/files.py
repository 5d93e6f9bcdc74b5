"""File routes: upload, list, read, rename, trash, restore, and the bytes."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post, route
from litestar.params import FromQuery, JSONBody, PathParameter, QueryParameter
from litestar.types import ASGIApp

from api.blobserve import BlobMeta, BlobResponse
from api.deps import App, AppSettings, CurrentActor, Session, Store
from api.openapi import Bytes, doc
from api.routes.blobs import signed_response
from api.upload import stage_request
from mcore.access import Actor, Visibility
from mcore.fetch.ops import FetchRequest, request_fetch
from mcore.files import ops
from mcore.files.models import FilePage, FileRead, FileUpdate, to_read
from mcore.jobs.models import JobRead
from mcore.jobs.ops import job_read
from mcore.uploads.ops import store_uploads, upload_folder

FileId = Annotated[str, PathParameter(description="The file's id")]
ExpectedCid = Annotated[
    str | None, QueryParameter(description="The CID the client expects; 422 on a mismatch")
]
Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Items per page")]


def _read(file: Any, actor: Actor) -> FileRead:
    return to_read(file, actor_id=actor.id)


class FilesController(Controller):
    path = "/api/v1/files"
    tags = ["files"]  # noqa: RUF012 (Litestar reads it as a class attribute)

    @post(
        "/",
        status_code=201,
        request_max_body_size=None,
        opt=doc("files_upload", 403, 404, 415, 429, 507, upload=True),
        summary="Upload files",
        description=(
            "Either `multipart/form-data` with one or more parts named `file`, or the raw"
            " bytes as the body with `?filename=`. `?cid=` gives the CID the client expects:"
            " a mismatch is refused with 422 and nothing is kept. A body larger than"
            " `max_upload_size` is refused with 413, a type outside `allowed_content_types`"
            " with 415."
        ),
    )
    async def upload(
        self,
        request: Request[Any, Any, Any],
        app_state: App,
        store: Store,
        settings: AppSettings,
        actor: CurrentActor,
        filename: Annotated[
            str | None, QueryParameter(description="The file's name, for a raw body")
        ] = None,
        cid: ExpectedCid = None,
        folder_id: Annotated[
            str | None,
            QueryParameter(description="The folder they go into; default: your own space"),
        ] = None,
    ) -> list[FileRead]:
        length = request.headers.get("content-length")
        async with app_state.db.session() as session:
            # where they go and whether the caller may put them there, before any byte
            await upload_folder(
                session,
                actor=actor,
                folder_id=folder_id,
                settings=settings,
                size=int(length) if length and length.isdigit() else None,
                check_only=True,
            )
        uploads = await stage_request(request, store, settings, filename=filename, expected_cid=cid)
        files = await store_uploads(
            app_state.db,
            store,
            actor=actor,
            uploads=uploads,
            settings=settings,
            folder_id=folder_id,
        )
        return [_read(f, actor) for f in files]

    @post(
        "/fetch",
        status_code=202,
        summary="Ingest a file from a URL",
        opt=doc(
            "files_fetch",
            403,
            404,
            request_examples=[
                {"url": "https://www.dropbox.com/scl/fi/abc123/photo.jpg?rlkey=xyz&dl=1"},
                {"url": "https://example.org/scan.pdf", "filename": "scan.pdf"},
            ],
        ),
        description=(
            "Queues a job that downloads the URL into the same pipeline as an upload"
            " (`max_upload_size`, `allowed_content_types`, the file record, its processing,"
            " events) as the caller's file, with `job.progress` events while it downloads;"
            " the finished job's `result` names the file (`file_id`, `cid`). HTTP(S) only,"
            " without credentials in the URL; hosts that resolve to loopback, private,"
            " link-local, multicast, reserved or cloud-metadata addresses are refused (422)"
            " unless allowed in `fetch.allowed_hosts`. What shows only while fetching (a"
            " redirect to such an address, more than `fetch.max_redirects` redirects, too"
            " large, slower than `fetch.timeout`, an error status) fails the job with its"
            " reason in `error`."
        ),
    )
    async def fetch(
        self,
        session: Session,
        actor: CurrentActor,
        settings: AppSettings,
        data: JSONBody[FetchRequest],
    ) -> JobRead:
        return job_read(await request_fetch(session, actor=actor, data=data, settings=settings))

    @get("/", summary="List files", opt=doc("files_list", guests=True))
    async def list_files(
        self,
        session: Session,
        actor: CurrentActor,
        cursor: FromQuery[str | None] = None,
        limit: Limit = 50,
        trashed: FromQuery[bool] = False,
        mine: FromQuery[bool] = False,
        cid: Annotated[
            str | None, QueryParameter(description="Only files with these bytes")
        ] = None,
        folder_id: Annotated[
            str | None, QueryParameter(description="Only files directly in this folder")
        ] = None,
    ) -> FilePage:
        """The files the caller may read, newest first, a page at a time (`cursor` from the
        last page's `next`); `mine` for the caller's own, `trashed` for those in the trash."""
        return await ops.list_files(
            session,
            actor=actor,
            cursor=cursor,
            limit=limit,
            trashed=trashed,
            mine=mine,
            cid=cid,
            folder_id=folder_id,
        )

    @get("/{file_id:str}", summary="Read a file record", opt=doc("files_get", guests=True))
    async def get_file(self, session: Session, actor: CurrentActor, file_id: FileId) -> FileRead:
        """A file's record: its CID, name, size, type, visibility and processing status."""
        return _read(await ops.get_file(session, actor=actor, file_id=file_id), actor)

    @patch(
        "/{file_id:str}",
        summary="Rename a file or change its visibility",
        opt=doc("files_update"),
    )
    async def update_file(
        self, session: Session, actor: CurrentActor, file_id: FileId, data: JSONBody[FileUpdate]
    ) -> FileRead:
        """Only the fields given change. The owner or an admin may rename it or change its
        visibility; a moderator may hide or show a public file."""
        return _read(await ops.update_file(session, actor=actor, file_id=file_id, data=data), actor)

    @delete(
        "/{file_id:str}",
        status_code=200,
        summary="Move a file to the trash",
        opt=doc("files_trash"),
    )
    async def trash_file(
        self, session: Session, actor: CurrentActor, settings: AppSettings, file_id: FileId
    ) -> FileRead:
        """It can be restored until the trash's retention ends; its bytes stay until then.
        403 while `undeletable` names `files`."""
        file = await ops.trash_file(
            session, actor=actor, file_id=file_id, undeletable=settings.undeletable
        )
        return _read(file, actor)

    @get(
        "/{file_id:str}/references",
        summary="Who uses a file",
        opt=doc("files_references", guests=True),
    )
    async def references(
        self, session: Session, actor: CurrentActor, file_id: FileId
    ) -> list[ops.Reference]:
        """The records whose current version links its bytes, its folder, and other file
        records of the same bytes: those you may see."""
        return await ops.file_references(session, actor=actor, file_id=file_id)

    @post(
        "/{file_id:str}/restore",
        status_code=200,
        summary="Restore a file from the trash",
        opt=doc("files_restore", 410),
    )
    async def restore_file(
        self, session: Session, actor: CurrentActor, settings: AppSettings, file_id: FileId
    ) -> FileRead:
        """Back out of the trash; 410 once it was deleted too long ago."""
        return _read(
            await ops.restore_file(session, actor=actor, file_id=file_id, settings=settings),
            actor,
        )

    @route(
        "/{file_id:str}/content",
        http_method=["GET", "HEAD"],
        summary="The file's bytes",
        opt=doc("files_content", 403, 409, bytes=Bytes(), guests=True),
        description="Answers `Range`, `If-None-Match` and `HEAD`; the ETag is the quoted CID."
        " Works without a session through a signed link (`POST /api/v1/links`). Others than"
        " the owner of an image get its copy without personal metadata (`stripped_cid`)"
        " unless `media.serve_public_originals` is on.",
    )
    async def content(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        actor: CurrentActor,
        store: Store,
        app_state: App,
        file_id: FileId,
    ) -> ASGIApp:
        signed = await signed_response(request, app_state)
        if signed is not None:
            return signed
        file = await ops.get_file(session, actor=actor, file_id=file_id)
        originals = app_state.settings.media.serve_public_originals
        content = await ops.file_content(session, actor=actor, file=file, originals=originals)
        meta = BlobMeta(
            cid=content.cid,
            size=content.size,
            content_type=content.content_type,
            filename=content.filename,
            public=file.visibility == Visibility.public and not file.hidden,
        )
        return BlobResponse(meta, store, app_state.blob_cache)
