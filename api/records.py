"""HTTP pieces the generated record routes share: ETags, If-Match, common parameters."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, TypeVar

from litestar import Response
from litestar.params import HeaderParameter, PathParameter, QueryParameter

from mcore.records.schemas import RecordMeta

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
