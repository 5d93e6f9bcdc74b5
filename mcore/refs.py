"""The one table that records every use of a blob: files, record links, derived files.

Garbage collection removes a blob only when no row here names it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, UniqueConstraint, delete, func
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.clock import utcnow
from mcore.db import UTCDateTime


class RefKind(StrEnum):
    file = "file"
    record = "record"
    derived = "derived"


class BlobRef(SQLModel, table=True):
    """One use of a blob by one row elsewhere (``kind`` says which table)."""

    __tablename__ = "blob_refs"
    __table_args__ = (UniqueConstraint("cid", "kind", "ref_id"),)

    id: int | None = Field(default=None, primary_key=True)
    cid: str = Field(index=True, max_length=64)
    kind: str = Field(max_length=16)
    ref_id: str = Field(index=True, max_length=128)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


async def add_ref(session: AsyncSession, cid: str, kind: RefKind, ref_id: str) -> None:
    session.add(BlobRef(cid=cid, kind=kind.value, ref_id=ref_id, created_at=utcnow()))


async def remove_refs(session: AsyncSession, kind: RefKind, ref_id: str) -> None:
    await session.exec(
        delete(BlobRef).where(col(BlobRef.kind) == kind.value, col(BlobRef.ref_id) == ref_id)
    )


async def ref_count(session: AsyncSession, cid: str) -> int:
    query = select(func.count()).select_from(BlobRef).where(col(BlobRef.cid) == cid)
    return int((await session.exec(query)).one())
