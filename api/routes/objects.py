"""Any content or version block by its CID, for callers who may read an object holding it."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.datastructures.headers import MediaTypeHeader
from litestar.exceptions import HTTPException
from litestar.params import PathParameter

from api.blobserve import etag_matches
from api.deps import CurrentActor, Session
from api.openapi import BINARY, doc
from mcore.files.names import content_disposition
from mcore.records.car import CAR_TYPE, RAW_TYPE, header, section
from mcore.records.encoding import decode, to_json
from mcore.records.versions import read_block

DAG_CBOR = "application/vnd.ipld.dag-cbor"
JSON = "application/json"
# the first is the default for `*/*` or no Accept at all; raw and CAR are the trustless
# gateway's response formats (https://specs.ipfs.tech/http-gateways/trustless-gateway/)
OFFERED = (JSON, DAG_CBOR, RAW_TYPE, CAR_TYPE)
# each representation has its own ETag, so a cache never answers one with another
ETAG_SUFFIX = {DAG_CBOR: "", JSON: ".json", RAW_TYPE: ".raw", CAR_TYPE: ".car"}

BlockCid = Annotated[str, PathParameter(description="A record block's CID (bafyr4i...)")]


def _quality(media: MediaTypeHeader) -> float:
    try:
        return float(media.params.get("q", "1"))
    except ValueError:
        return 1.0


def negotiate(accept: str | None, offered: tuple[str, ...] = OFFERED) -> str | None:
    """Which of ``offered`` (by default ``OFFERED``) to send for an ``Accept`` header, or
    None when the caller takes none of them (406). Follows RFC 9110 §12.5.1: the most
    specific range that names a type decides its quality, and quality 0 means "not this
    one"."""
    if accept is None or not accept.strip():
        return OFFERED[0]
    ranges = [MediaTypeHeader(part) for part in accept.split(",") if part.strip()]
    best: tuple[float, int, str] | None = None
    for rank, media_type in enumerate(offered):
        maintype, subtype = media_type.split("/")
        matching = [
            (media.priority[1], _quality(media))
            for media in ranges
            if media.maintype in ("*", maintype) and media.subtype in ("*", subtype)
        ]
        if not matching:
            continue
        quality = max(matching)[1]  # the most specific range wins (RFC 9110's rule)
        if quality > 0 and (best is None or (quality, -rank) > best[:2]):
            best = (quality, -rank, media_type)
    return None if best is None else best[2]


@get(
    "/api/v1/objects/{cid:str}",
    summary="A record block by CID",
    description=(
        'Any content or version block. JSON by default (links as `{"/": cid}`, bytes as'
        ' `{"/": {"bytes": base64}}`, as DAG-JSON writes them); the exact DAG-CBOR bytes,'
        f" which re-hash to the CID, with `Accept: {DAG_CBOR}`; the same bytes as a raw block"
        f" with `Accept: {RAW_TYPE}`, or a CAR v1 holding that one block (its root the CID)"
        f" with `Accept: {CAR_TYPE}`, both as attachments (`<cid>.bin`, `<cid>.car`), as"
        " IPFS's trustless gateways answer. Any other `Accept` is answered 406. Each form has"
        " its own ETag (the quoted CID for DAG-CBOR; the quoted CID with `.json`, `.raw` or"
        " `.car` for the others), and `If-None-Match` with it gives 304."
    ),
    tags=["objects"],
    opt=doc(
        "objects_get",
        406,
        422,
        guests=True,
        etag="The quoted CID for the DAG-CBOR form, the quoted CID with `.json`, `.raw` or"
        " `.car` for the JSON, raw and CAR forms: send it as `If-None-Match`",
        conditional=True,
        success_media_types={
            JSON: {
                "schema": {
                    "type": "object",
                    "additionalProperties": True,
                    "description": "The block as DAG-JSON",
                }
            },
            DAG_CBOR: {"schema": {**BINARY, "description": "The block's exact DAG-CBOR bytes"}},
            RAW_TYPE: {"schema": {**BINARY, "description": "The same bytes, as a raw block"}},
            CAR_TYPE: {
                "schema": {**BINARY, "description": "A CAR v1 whose root and one block is it"}
            },
        },
    ),
)
async def get_object(
    request: Request[Any, Any, Any], session: Session, actor: CurrentActor, cid: BlockCid
) -> Response[Any]:
    media_type = negotiate(request.headers.get("accept"))
    if media_type is None:
        raise HTTPException(
            status_code=406, detail=f"this block is available as {', '.join(OFFERED)} only"
        )
    data = await read_block(session, actor=actor, cid=cid)
    etag = f'"{cid}{ETAG_SUFFIX[media_type]}"'
    headers = {
        "ETag": etag,
        "Cache-Control": "private, max-age=31536000, immutable",
        "Vary": "Accept",
    }
    inm = request.headers.get("if-none-match")
    if inm is not None and etag_matches(inm, etag):
        return Response(b"", status_code=304, headers=headers)
    headers["X-Content-Type-Options"] = "nosniff"
    if media_type == DAG_CBOR:
        return Response(data, media_type=DAG_CBOR, headers=headers)
    if media_type == RAW_TYPE:
        headers["Content-Disposition"] = content_disposition("attachment", f"{cid}.bin")
        return Response(data, media_type=RAW_TYPE, headers=headers)
    if media_type == CAR_TYPE:
        headers["Content-Disposition"] = content_disposition("attachment", f"{cid}.car")
        return Response(header([cid]) + section(cid, data), media_type=CAR_TYPE, headers=headers)
    return Response(to_json(decode(data)), media_type=JSON, headers=headers)
