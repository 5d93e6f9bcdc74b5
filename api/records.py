"""HTTP pieces the generated record routes share: ETags, If-Match, common parameters."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, TypeVar

from litestar import Response
from litestar.params import HeaderParameter, PathParameter, QueryParameter
from litestar.response import Stream

from mcore.files.names import content_disposition
from mcore.records.car import CAR_TYPE, MAX_BLOCK_SIZE
from mcore.records.export import ExportPlan
from mcore.records.schemas import RecordMeta
from mcore.storage import BlobStore

ReadT = TypeVar("ReadT", bound=RecordMeta)

IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        description='The head CID you last read, quoted ("bafyr4i..."): 412 if it has moved',
    ),
]
At = Annotated[
    datetime | None,
    QueryParameter(description="Read the head as it was at this time (ISO 8601 with zone)"),
]
Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Items per page")]
VersionId = Annotated[str, PathParameter(description="The CID of one version")]
WithFiles = Annotated[
    bool,
    QueryParameter(
        description="Also the files the versions link, as raw blocks; those over"
        f" {MAX_BLOCK_SIZE} bytes (1 MiB, IPFS's block limit) or that you may not read are"
        " left out and named in the CAR's manifest block (`$type: mstack/car-manifest`)"
    ),
]
EXPORT_DESCRIPTION = (
    "A CAR v1 file (`application/vnd.ipld.car`, https://ipld.io/specs/transport/car/carv1/)"
    " whose root is the head version and which holds every version block and every content"
    " block of the history (newest version first, each followed by its content when first"
    " seen), streamed. With `files=1` it also holds the linked files as raw blocks, after a"
    " manifest block `{$type: mstack/car-manifest, root, files, omitted}`: files over 1 MiB"
    " are not valid IPFS blocks and are left out, listed in `omitted` with their size and"
    " reason (so are files you may not read); `X-Mstack-Omitted-Files` counts them."
    " `POST /api/v1/import` takes the CAR back."
)
EXPORT_MEDIA = {
    CAR_TYPE: {"schema": {"type": "string", "format": "binary", "description": "A CAR v1 file"}}
}


def etag(cid: str) -> str:
    return f'"{cid}"'


def tagged(read: ReadT, status_code: int = 200) -> Response[ReadT]:
    """The read with its version CID as a strong ETag, for the next request's If-Match."""
    return Response(read, status_code=status_code, headers={"ETag": etag(read.cid)})


def if_match_cids(header: str | None) -> list[str] | None:
    """The CIDs an If-Match header accepts; None for no header or ``*`` (any head).

    Weak tags never match (RFC 9110 compares If-Match strongly), nor does anything that
    is not a quoted CID, so such a request gets 412 rather than a silent overwrite.
    """
    if header is None or header.strip() == "*":
        return None
    tags = []
    for part in header.split(","):
        tag = part.strip()
        if len(tag) >= 2 and tag[0] == tag[-1] == '"':
            tags.append(tag[1:-1])
    return tags


def car_response(plan: ExportPlan, store: BlobStore) -> Stream:
    """An export as a streamed attachment ``<id>.car``; its ETag names the head and whether
    files are in it."""
    with_files = plan.manifest is not None
    return Stream(
        plan.stream(store),
        media_type=CAR_TYPE,
        headers={
            "Content-Length": str(plan.size),
            "Content-Disposition": content_disposition("attachment", f"{plan.object_id}.car"),
            "ETag": etag(f"{plan.root}.{'files.' if with_files else ''}car"),
            "Cache-Control": "private, no-cache",
            "X-Content-Type-Options": "nosniff",
            "X-Mstack-Omitted-Files": str(len(plan.omitted)),
        },
    )
