"""The block table: every content and version block, as the exact bytes that were hashed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.db import serialize_on
from mcore.records._plain import decode_plain, file_links_of
from mcore.records.encoding import block_cid, encode
from mcore.records.models import Block, RecordVersion
from mcore.refs import RefKind, add_ref


async def put_block(session: AsyncSession, value: Mapping[str, Any]) -> str:
    """Encode ``value`` canonically, keep its bytes under their CID, and return the CID.

    A block seen for the first time also records its links to files in ``blob_refs``,
    so garbage collection keeps every blob any version links to.
    """
    return await put_encoded(session, encode(value))


async def put_encoded(session: AsyncSession, data: bytes) -> str:
    """Keep canonical DAG-CBOR bytes (made by ``encode``, or checked to equal what it makes)
    under their CID, as :func:`put_block` does, and return the CID."""
    cid = block_cid(data)
    await serialize_on(session, f"block:{cid}")  # against a purge removing the same block
    connection = await session.connection()
    values = {"cid": cid, "data": data}
    if connection.dialect.name == "postgresql":
        statement: Any = pg_insert(Block).values(values).on_conflict_do_nothing()
    elif connection.dialect.name == "sqlite":
        statement = sqlite_insert(Block).values(values).on_conflict_do_nothing()
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        statement = insert(Block).values(values)
    result = await session.exec(statement)
    if result.rowcount == 1:
        for target in sorted(file_links_of(data)):
            await add_ref(session, target, RefKind.record, cid)
    return cid


async def put_encoded_many(session: AsyncSession, blocks: Sequence[bytes]) -> list[str]:
    """:func:`put_encoded` for several blocks, in a few statements whatever their number
    (a batch create writes two blocks an object); returns their CIDs in order."""
    cids = [block_cid(data) for data in blocks]
    for cid in sorted(set(cids)):
        await serialize_on(session, f"block:{cid}")
    present = set(await get_blocks_present(session, cids))
    new = {cid: data for cid, data in zip(cids, blocks, strict=True) if cid not in present}
    if new:
        rows = [{"cid": cid, "data": data} for cid, data in new.items()]
        await session.exec(insert(Block), params=rows)
        for cid, data in new.items():
            for target in sorted(file_links_of(data)):
                await add_ref(session, target, RefKind.record, cid)
    return cids


async def get_blocks_present(session: AsyncSession, cids: Iterable[str]) -> set[str]:
    """Which of ``cids`` the block table holds."""
    wanted = sorted(set(cids))
    if not wanted:
        return set()
    rows = await session.exec(select(Block.cid).where(col(Block.cid).in_(wanted)))
    return set(rows)


async def get_blocks(session: AsyncSession, cids: Iterable[str]) -> dict[str, bytes]:
    """The stored bytes of each CID that is present."""
    wanted = sorted(set(cids))
    if not wanted:
        return {}
    rows = await session.exec(select(Block).where(col(Block.cid).in_(wanted)))
    return {row.cid: row.data for row in rows}


async def get_history_blocks(session: AsyncSession, object_id: str) -> dict[str, bytes]:
    """The stored bytes of every version and content block of one object's history, by a
    subquery rather than thousands of bound CIDs (which SQLAlchemy takes about 0.15 ms
    each to name: most of a long history's export)."""
    of_object = col(RecordVersion.object_id) == object_id
    versions = select(RecordVersion.cid).where(of_object)
    contents = select(RecordVersion.content_cid).where(
        of_object, col(RecordVersion.content_cid).is_not(None)
    )
    query = select(Block.cid, Block.data).where(
        col(Block.cid).in_(versions) | col(Block.cid).in_(contents)
    )
    return {row[0]: row[1] for row in await session.exec(query)}


async def get_plain_contents(
    session: AsyncSession, cids: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """The content blocks of ``cids`` as plain values (links as CID strings, ``$type``
    left out): what the schemas read; a missing block is a broken invariant."""
    wanted = set(cids)
    blocks = await get_blocks(session, wanted)
    missing = wanted - blocks.keys()
    if missing:
        raise RuntimeError(f"content blocks missing from the block table: {sorted(missing)}")
    plains = {cid: decode_plain(data) for cid, data in blocks.items()}
    for plain in plains.values():
        plain.pop("$type", None)
    return plains
