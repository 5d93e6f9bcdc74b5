"""Bytes by CID, for anyone who may read some file that references them.

This is the full check; it records a read grant so ``api.fastpath`` answers the next
reads of the same blob by the same caller without the database.
"""

from __future__ import annotations

from litestar import route
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.types import ASGIApp

from api.blobserve import BlobMeta, BlobResponse
from api.deps import CurrentActor, Session, Store
from mcore.cid import parse_cid
from mcore.errors import NotFound
from mcore.files import ops


@route(
    "/blobs/{cid:str}",
    http_method=["GET", "HEAD"],
    summary="A blob's bytes by CID",
    tags=["files"],
)
async def get_blob(
    cid: FromPath[str], session: Session, actor: CurrentActor, store: Store, state: State
) -> ASGIApp:
    parse_cid(cid)
    grants = state.read_grants
    generation = grants.generation
    content_type = await ops.readable_blob_type(session, actor=actor, cid=cid)
    info = await store.stat(cid)
    if info is None:
        raise NotFound(f"blob {cid} is not in the store")
    meta = BlobMeta(cid=cid, size=info.size, content_type=content_type)
    grants.put(actor.id, cid, meta, generation)
    return BlobResponse(meta, store, state.blob_cache)
