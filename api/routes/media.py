"""Derived files: previews, on-the-fly images and zips of many files."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post, route
from litestar.params import JSONBody, PathParameter, QueryParameter
from litestar.response import Stream
from litestar.types import ASGIApp
from pydantic import BaseModel, Field

from api.blobserve import BlobMeta, BlobResponse
from api.deps import App, AppSettings, CurrentActor, Session, Store
from api.openapi import BINARY, Bytes, doc
from api.state import AppState
from mcore.access import Actor, Visibility
from mcore.auth import LinkRefused, is_signed
from mcore.auth.ops.links import image_link_maker
from mcore.files import ops
from mcore.files.derivatives import DerivativeRead
from mcore.files.imageparams import TransformParams, parse_params
from mcore.files.names import content_disposition, derived_filename
from mcore.files.zips import plan_zip, stream_zip
from mcore.jobs.models import JobRead
from mcore.jobs.ops import job_read, request_transform
from mcore.media import imagecache

FileId = Annotated[str, PathParameter(description="The file's id")]
PreviewName = Annotated[str, PathParameter(description="The preview's name, e.g. preview-256")]

# The schema's bound on /image sizes; `media.transform_max_dimension` narrows it (422 past it).
MAX_PIXELS = 65_535
WIDTH = "Width in pixels, at most `media.transform_max_dimension` (4096 by default)"
HEIGHT = "Height in pixels, at most `media.transform_max_dimension` (4096 by default)"


class TransformRequest(BaseModel):
    """Which transformation to make of a file."""

    kind: str = Field(
        max_length=32, description="The transformation: `ocr` (text of an image or a scanned PDF)"
    )


class ZipRequest(BaseModel):
    """Which files to put in a zip."""

    ids: list[str] = Field(min_length=1, max_length=1000, description="File ids")
    previews: bool = Field(default=False, description="Add each file's previews")


class MediaController(Controller):
    path = "/api/v1/files"
    tags = ["files"]  # noqa: RUF012 (Litestar reads it as a class attribute)

    @get(
        "/{file_id:str}/previews",
        summary="A file's previews and other derived files",
        opt=doc("files_previews", guests=True),
    )
    async def list_previews(
        self, session: Session, actor: CurrentActor, file_id: FileId
    ) -> list[DerivativeRead]:
        """What processing made from the file so far (previews, renditions), with their CIDs,
        types and sizes; empty until processing has run."""
        return await ops.list_previews(session, actor=actor, file_id=file_id)

    @route(
        "/{file_id:str}/previews/{name:str}",
        http_method=["GET", "HEAD"],
        summary="The bytes of one preview",
        opt=doc("files_preview", bytes=Bytes(media_types=("image/webp", "*/*")), guests=True),
    )
    async def preview(
        self,
        session: Session,
        actor: CurrentActor,
        store: Store,
        app_state: App,
        file_id: FileId,
        name: PreviewName,
    ) -> ASGIApp:
        """One derived file by name (as the preview list gives it); answers `Range`,
        `If-None-Match` and `HEAD` as the file's own bytes do."""
        file, row = await ops.get_preview(session, actor=actor, file_id=file_id, name=name)
        meta = BlobMeta(
            cid=row.cid,
            size=row.size,
            content_type=row.content_type,
            filename=derived_filename(file.filename, row.name, row.content_type),
            public=file.visibility == Visibility.public and not file.hidden,
        )
        return BlobResponse(meta, store, app_state.blob_cache)

    @get(
        "/{file_id:str}/image",
        summary="The image resized and converted",
        description="`w`, `h` (pixels, up to the configured limit), `fit` (contain, cover,"
        " fill), `format` (webp, jpeg, png, avif), `q` (1-100). Results are cached"
        " (`X-Cache: hit` or `miss`). A file that is no image is 422. Works without a"
        " token through a signed link (`POST /api/v1/links` with `image`): its parameters,"
        " key id (`kid`), expiry (`exp`) and maker are signed (`sig`, HMAC-SHA256), and a"
        " link that is altered, expired, signed by a retired key, or whose maker may no"
        " longer read the file is 403.",
        opt=doc(
            "files_image",
            403,
            507,
            guests=True,
            bytes=Bytes(media_types=("image/webp", "image/jpeg", "image/png", "image/avif")),
        ),
    )
    async def image(
        self,
        request: Request[Any, Any, Any],
        actor: CurrentActor,
        store: Store,
        settings: AppSettings,
        app_state: App,
        file_id: FileId,
        w: Annotated[int | None, QueryParameter(description=WIDTH, ge=1, le=MAX_PIXELS)] = None,
        h: Annotated[int | None, QueryParameter(description=HEIGHT, ge=1, le=MAX_PIXELS)] = None,
        fit: Annotated[str | None, QueryParameter(description="contain, cover or fill")] = None,
        format: Annotated[str | None, QueryParameter(description="webp, jpeg, png or avif")] = None,
        q: Annotated[int | None, QueryParameter(description="Quality, 1-100", ge=1, le=100)] = None,
    ) -> ASGIApp:
        query = request.scope["query_string"]
        if is_signed(query):
            actor, params = await _signed_image(app_state, request.scope["path"], query, file_id)
        else:
            params = parse_params(settings, w=w, h=h, fit=fit, format=format, q=q)
        row, hit = await imagecache.transformed_image(
            app_state.db,
            store,
            app_state.sandbox,
            settings,
            app_state.image_cache_stats,
            actor=actor,
            file_id=file_id,
            params=params,
        )
        meta = BlobMeta(cid=row.cid, size=row.size, content_type=row.content_type)
        cache = b"hit" if hit else b"miss"
        return BlobResponse(meta, store, app_state.blob_cache, [(b"x-cache", cache)])

    @post(
        "/{file_id:str}/transform",
        status_code=202,
        summary="Queue a transformation of a file (OCR)",
        opt=doc("files_transform", 403, request_examples=[{"kind": "ocr"}]),
        description="`ocr` recognizes the text of an image, or of the scanned pages of a PDF"
        " (pages with a text layer are left to the PDF's own `text`), in a job: its"
        " `job.progress` events follow it, and the finished job's `result` names the derived"
        " file `ocr-text` (`text/plain`, pages apart by form feeds), which is listed with the"
        " file's previews. Anyone who may read the file may ask, with the `files:write`"
        " scope; the job is theirs. An unknown kind, or a file OCR does not read, is 422.",
    )
    async def transform(
        self,
        session: Session,
        actor: CurrentActor,
        settings: AppSettings,
        file_id: FileId,
        data: JSONBody[TransformRequest],
    ) -> JobRead:
        job = await request_transform(
            session, actor=actor, file_id=file_id, kind=data.kind, settings=settings
        )
        return job_read(job)

    @post(
        "/zip",
        status_code=200,
        summary="A zip of files, streamed as it is built",
        response_description="application/zip",
        opt=doc(
            "files_zip",
            403,
            404,
            409,
            guests=True,
            success_media_types={"application/zip": {"schema": BINARY}},
        ),
    )
    async def zip(
        self,
        session: Session,
        actor: CurrentActor,
        store: Store,
        settings: AppSettings,
        data: JSONBody[ZipRequest],
    ) -> Response[Any]:
        """The files the caller may read, named as they are (made unique), streamed as the
        zip is built; 404 if any of them is not there for the caller. Others than its owner
        get an image's copy without its metadata (`stripped_cid`), 409 while it is made."""
        members = await plan_zip(
            session,
            actor=actor,
            file_ids=data.ids,
            previews=data.previews,
            originals=settings.media.serve_public_originals,
        )
        return Stream(
            stream_zip(store, members),
            media_type="application/zip",
            headers={
                "Content-Disposition": content_disposition("attachment", "mstack-files.zip"),
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "no-store",
            },
        )


async def _signed_image(
    app: AppState, path: str, query: bytes, file_id: str
) -> tuple[Actor, TransformParams]:
    """The maker of a signed ``/image`` link and the parameters it grants; ``LinkRefused``
    (403) for a bad, expired or withdrawn one."""
    grant = app.auth.links.verify(path, query)
    async with app.db.session() as session:
        maker = await image_link_maker(session, grant=grant, file_id=file_id)
    signed = grant.params

    def number(name: str) -> int | None:
        value = signed.get(name)
        if value is None:
            return None
        if not value.isdigit():
            raise LinkRefused(f"this link is malformed: {name} is no number")
        return int(value)

    params = parse_params(
        app.settings,
        w=number("w"),
        h=number("h"),
        fit=signed.get("fit"),
        format=signed.get("format"),
        q=number("q"),
    )
    return maker, params


@get(
    "/api/v1/images/cache",
    summary="The on-the-fly image cache's size and counters (admin)",
    tags=["files"],
    opt=doc("images_cache"),
)
async def image_cache_report(
    actor: CurrentActor, settings: AppSettings, app_state: App
) -> dict[str, Any]:
    """How many transformed images are cached and how much room they take, with the
    hit and miss counters of this process."""
    return await imagecache.cache_report(
        app_state.db, settings, app_state.image_cache_stats, actor=actor
    )
