"""Bytes by CID, for anyone who may read some file that references them, or who holds a
signed link to them.

This is the full check. It records a read grant so ``api.fastpath`` answers the next
reads of the same blob with the same credential without the database; signed links need no
database at all and are answered there too.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, route
from litestar.params import PathParameter
from litestar.types import ASGIApp

from api.blobserve import BlobMeta, BlobResponse, CarBlobResponse, raw_meta
from api.deps import App, CurrentActor, Session, Store
from api.openapi import Bytes, doc
from api.routes.objects import negotiate
from api.state import AppState
from mcore.auth import LinkRefused, is_signed
from mcore.auth.ops.links import check_link_maker
from mcore.cid import parse_cid
from mcore.errors import NotFound
from mcore.files import ops
from mcore.records.car import CAR_TYPE, RAW_TYPE


async def signed_meta(
    app: AppState, path: str, query: bytes, *, cid: str | None = None
) -> tuple[BlobMeta, int] | None:
    """What a signed link grants and until when, or None when the URL carries no signature.
    ``LinkRefused`` (403) when it carries a bad or expired one, or its maker may no longer
    read what it points at (one database read; the fast path remembers the answer).
    """
    if not is_signed(query):
        return None
    grant = app.auth.links.verify(path, query)
    cid = cid or grant.params.get("cid")
    if cid is None:
        raise LinkRefused("this link does not say which content it grants")
    async with app.db.session() as session:
        await check_link_maker(
            session, grant=grant, cid=cid, originals=app.settings.media.serve_public_originals
        )
    info = await app.store.stat(cid)
    if info is None:
        raise NotFound(f"blob {cid} is not in the store")
    meta = BlobMeta(
        cid=cid,
        size=info.size,
        content_type=grant.params.get("type", "application/octet-stream"),
        filename=grant.params.get("name"),
    )
    return meta, grant.expires


async def signed_response(
    request: Request[Any, Any, Any], app: AppState, *, cid: str | None = None
) -> ASGIApp | None:
    """The response for a signed link, or None when the URL carries no signature."""
    signed = await signed_meta(app, request.scope["path"], request.scope["query_string"], cid=cid)
    return None if signed is None else BlobResponse(signed[0], app.store, app.blob_cache)


def ipld_form(accept: str | None) -> str | None:
    """``application/vnd.ipld.raw`` or ``.car`` when the caller asks for one of the trustless
    gateway's forms rather than the bytes as a file; None for the file as it is."""
    if accept is None or "vnd.ipld" not in accept.lower():
        return None
    return negotiate(accept, (RAW_TYPE, CAR_TYPE))


def blob_form(meta: BlobMeta, app: AppState, form: str | None) -> ASGIApp:
    """The response for readable bytes in the form asked for."""
    if form == RAW_TYPE:
        return BlobResponse(raw_meta(meta), app.store, app.blob_cache)
    if form == CAR_TYPE:
        return CarBlobResponse(meta, app.store, app.blob_cache)
    return BlobResponse(meta, app.store, app.blob_cache)


@route(
    "/blobs/{cid:str}",
    http_method=["GET", "HEAD"],
    summary="A blob's bytes by CID",
    description="For a caller who may read a file that references the blob (or, for a"
    " preview or `/image` result, its source), or with a signed link (`POST /api/v1/links`)."
    " A malformed CID is 422. Answers `Range`, `If-Range`, `If-None-Match` and `HEAD`; the"
    " ETag is the quoted CID. With `Accept: application/vnd.ipld.raw` the same bytes as a raw"
    " block (`<cid>.bin`, ETag the quoted CID with `.raw`), with `Accept:"
    " application/vnd.ipld.car` a CAR v1 whose root and one block is the blob (`<cid>.car`,"
    " ETag with `.car`, no ranges), as IPFS's trustless gateways answer; a file over 1 MiB"
    " is one block larger than IPFS nodes exchange.",
    tags=["files"],
    opt=doc(
        "blobs_get",
        422,
        bytes=Bytes(media_types=("application/octet-stream", RAW_TYPE, CAR_TYPE, "*/*")),
        guests=True,
    ),
)
async def get_blob(
    cid: Annotated[str, PathParameter(description="The blob's CID (bafk...)")],
    request: Request[Any, Any, Any],
    session: Session,
    actor: CurrentActor,
    store: Store,
    app_state: App,
) -> ASGIApp:
    parse_cid(cid)
    form = ipld_form(request.headers.get("accept"))
    signed = await signed_meta(
        app_state, request.scope["path"], request.scope["query_string"], cid=cid
    )
    if signed is not None:
        return blob_form(signed[0], app_state, form)
    grants = app_state.read_grants
    generation = grants.generation
    originals = app_state.settings.media.serve_public_originals
    content_type = await ops.readable_blob_type(session, actor=actor, cid=cid, originals=originals)
    info = await store.stat(cid)
    if info is None:
        raise NotFound(f"blob {cid} is not in the store")
    meta = BlobMeta(cid=cid, size=info.size, content_type=content_type)
    grants.put(actor, cid, meta, generation)
    return blob_form(meta, app_state, form)
