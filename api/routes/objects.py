"""Any content or version block by its CID, for callers who may read an object holding it."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.params import PathParameter

from api.deps import CurrentActor, Session
from api.openapi import BINARY, doc
from mcore.records.encoding import decode, to_json
from mcore.records.versions import read_block

DAG_CBOR = "application/vnd.ipld.dag-cbor"
JSON = "application/json"

BlockCid = Annotated[str, PathParameter(description="A record block's CID (bafyr4i...)")]


@get(
    "/api/v1/objects/{cid:str}",
    summary="A record block by CID",
    description=(
        'Any content or version block. JSON by default (links as `{"/": cid}`, bytes as'
        ' `{"/": {"bytes": base64}}`, as DAG-JSON writes them); the exact DAG-CBOR bytes,'
        f" which re-hash to the CID, with `Accept: {DAG_CBOR}`."
    ),
    tags=["objects"],
    opt=doc(
        "objects_get",
        422,
        guests=True,
        etag=True,
        success_media_types={
            JSON: {
                "schema": {
                    "type": "object",
                    "additionalProperties": True,
                    "description": "The block as DAG-JSON",
                }
            },
            DAG_CBOR: {"schema": {**BINARY, "description": "The block's exact DAG-CBOR bytes"}},
        },
    ),
)
async def get_object(
    request: Request[Any, Any, Any], session: Session, actor: CurrentActor, cid: BlockCid
) -> Response[Any]:
    data = await read_block(session, actor=actor, cid=cid)
    headers = {
        "ETag": f'"{cid}"',
        "Cache-Control": "private, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff",
        "Vary": "Accept",
    }
    if request.accept.best_match([JSON, DAG_CBOR], default=JSON) == DAG_CBOR:
        return Response(data, media_type=DAG_CBOR, headers=headers)
    return Response(to_json(decode(data)), media_type=JSON, headers=headers)
