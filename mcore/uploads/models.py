"""Resumable uploads (tus): one row per upload, so its offset survives a restart."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Text
from sqlmodel import Field, SQLModel

from mcore.db import UTCDateTime


class Upload(SQLModel, table=True):
    """An upload in progress (or just finished): how much of it is durable on disk.

    Its bytes are in ``tmp/uploads/<id>.tus`` in the data directory until the last byte
    arrives; then they become a file record (``file_id``, ``cid``) through the upload op,
    and the row stays until it expires, so a client that lost the last answer can ask.
    """

    __tablename__ = "uploads"
    __table_args__ = (
        Index("ix_uploads_expires_at", "expires_at"),
        Index("ix_uploads_owner_id", "owner_id"),
    )

    id: str = Field(primary_key=True, max_length=26)
    owner_id: str = Field(max_length=64)
    length: int = Field(sa_column=Column(BigInteger(), nullable=False))
    offset: int = Field(default=0, sa_column=Column(BigInteger(), nullable=False))
    filename: str = Field(max_length=255)
    declared_type: str | None = Field(default=None, max_length=255)
    folder_id: str | None = Field(default=None, max_length=64)
    expected_cid: str | None = Field(default=None, max_length=64)
    metadata_header: str | None = Field(default=None, sa_column=Column(Text()))
    file_id: str | None = Field(default=None, max_length=26)
    cid: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
