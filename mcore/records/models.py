"""The record engine's tables: blocks, objects with their heads, the version chain, terms.

``blocks`` holds the truth (the exact bytes that were hashed); the other tables index it
so that heads, history, times and permissions can be answered without decoding blocks.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, LargeBinary, String
from sqlmodel import Field, SQLModel

from mcore.access import Visibility
from mcore.db import UTCDateTime

CID_LENGTH = 64
TERM_LENGTH = 255


class Block(SQLModel, table=True):
    """One content or version block, keyed by its CID; ``data`` re-hashes to ``cid``."""

    __tablename__ = "blocks"

    cid: str = Field(primary_key=True, max_length=CID_LENGTH)
    data: bytes = Field(sa_column=Column(LargeBinary(), nullable=False))


class Record(SQLModel, table=True):
    """A versioned object: its stable id (the CID of its first version) and its head.

    Owner and visibility say who may read and write it; they are not content, so making
    a record public changes no CID. ``deleted_at`` is set while the head is a tombstone.
    """

    __tablename__ = "records"
    __table_args__ = (
        Index("ix_records_type_created", "type", "created_at", "id"),
        Index("ix_records_owner_id", "owner_id"),
    )

    id: str = Field(primary_key=True, max_length=CID_LENGTH)
    type: str = Field(max_length=64)
    owner_id: str = Field(max_length=64)
    visibility: Visibility = Field(default=Visibility.private, sa_type=String(16))
    hidden: bool = Field(default=False)
    head: str = Field(max_length=CID_LENGTH)
    n: int
    content_cid: str | None = Field(default=None, max_length=CID_LENGTH)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    deleted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class RecordVersion(SQLModel, table=True):
    """One link of an object's hash chain; a tombstone has no content."""

    __tablename__ = "record_versions"
    __table_args__ = (Index("ix_record_versions_object_id_at", "object_id", "at"),)

    object_id: str = Field(
        sa_column=Column(
            String(CID_LENGTH), ForeignKey("records.id", ondelete="CASCADE"), primary_key=True
        )
    )
    n: int = Field(primary_key=True)
    cid: str = Field(max_length=CID_LENGTH, unique=True)
    content_cid: str | None = Field(default=None, max_length=CID_LENGTH, index=True)
    by: str = Field(max_length=64)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))

    @property
    def deleted(self) -> bool:
        return self.content_cid is None


class RecordTerm(SQLModel, table=True):
    """A value of a multi-valued searchable field of an object's head (a tag, a linked id)."""

    __tablename__ = "record_terms"
    __table_args__ = (Index("ix_record_terms_field_value", "field", "value"),)

    record_id: str = Field(
        sa_column=Column(
            String(CID_LENGTH), ForeignKey("records.id", ondelete="CASCADE"), primary_key=True
        )
    )
    field: str = Field(primary_key=True, max_length=64)
    value: str = Field(primary_key=True, max_length=TERM_LENGTH)
