"""``POST /api/v1/import``: a record and its history from a CAR that ``export.car`` wrote."""

from __future__ import annotations

from typing import Any

from litestar import Request, post

from api._generated import RECORD_TYPES
from api.deps import AppSettings, CurrentActor, Session, Store
from api.openapi import doc
from api.upload import body_chunks
from mcore.errors import TooLarge
from mcore.files.staging import StagedUpload, discard_uploads, stage_stream
from mcore.records.car import MAX_BLOCK_SIZE, MAX_CAR_SIZE, read_car
from mcore.records.importing import apply_import, check_may_import, plan_import
from mcore.records.schemas import ImportRead
from mcore.uploads.ops import record_and_enqueue


async def _read_body(request: Request[Any, Any, Any]) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_CAR_SIZE:
        raise TooLarge(f"a CAR to import may hold at most {MAX_CAR_SIZE} bytes")
    parts: list[bytes] = []
    size = 0
    async for chunk in body_chunks(request):
        size += len(chunk)
        if size > MAX_CAR_SIZE:
            raise TooLarge(f"a CAR to import may hold at most {MAX_CAR_SIZE} bytes")
        parts.append(chunk)
    return b"".join(parts)


async def _one(data: bytes) -> Any:
    yield data


@post(
    "/api/v1/import",
    status_code=201,
    request_max_body_size=None,
    summary="Import a record and its history from a CAR file",
    description=(
        "The body is a CAR v1 (`application/vnd.ipld.car`) as `GET"
        " /api/v1/<model>/{id}/export.car` writes it: its one root the head version, every"
        " version and content block, and any linked files as raw blocks. Every block is"
        " checked against its CID and the whole version chain (numbers, links, times, the"
        " first version's nonce), and every content block against its model and the exact"
        " bytes this server would write, before anything is written; then the record is made"
        " with its history and the same CIDs (private, owned by the author of its first"
        " version: an admin may import anyone's, others only their own). Raw blocks the record"
        " links become your files unless you may already read those bytes. A CAR that does"
        f" not verify is 422 and nothing is written; one over {MAX_CAR_SIZE} bytes is 413, a"
        f" block over {MAX_BLOCK_SIZE} bytes 422; a record that is here already is 409."
    ),
    tags=["records"],
    opt=doc("records_import", 409, 413, 422),
)
async def import_car(
    request: Request[Any, Any, Any],
    session: Session,
    actor: CurrentActor,
    store: Store,
    settings: AppSettings,
) -> ImportRead:
    check_may_import(actor)
    car = read_car(await _read_body(request))
    plan = await plan_import(
        session,
        actor=actor,
        car=car,
        types=RECORD_TYPES,
        originals=settings.media.serve_public_originals,
    )
    staged: list[StagedUpload] = []
    try:
        for cid in plan.files:
            staged.append(
                await stage_stream(
                    store, _one(car.blocks[cid]), settings, filename=cid, expected_cid=cid
                )
            )
        await record_and_enqueue(session, store, actor=actor, uploads=staged, settings=settings)
        record = await apply_import(session, actor=actor, plan=plan)
    finally:
        await discard_uploads(store, staged)
    return ImportRead(
        id=record.id,
        cid=record.head,
        type=record.type,
        n=record.n,
        owner_id=record.owner_id,
        deleted=record.content_cid is None,
        files=plan.files,
    )
