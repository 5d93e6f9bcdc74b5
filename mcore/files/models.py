"""File records: one row per upload, pointing at a blob by CID."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, String
from sqlmodel import Field, SQLModel

from mcore.access import Visibility
from mcore.db import UTCDateTime


class FileStatus(StrEnum):
    stored = "stored"  # bytes are in place; nothing more to do
    queued = "queued"  # waiting for processing
    processing = "processing"
    ready = "ready"  # previews made
    failed = "failed"  # processing failed; the original is still stored


class FileBase(SQLModel):
    filename: str = Field(max_length=255)
    visibility: Visibility = Field(default=Visibility.private, sa_type=String(16))


class File(FileBase, table=True):
    """A file record. Rows are written only after their blob is in place."""

    __tablename__ = "files"
    __table_args__ = (
        Index("ix_files_owner_deleted_id", "owner_id", "deleted_at", "id"),
        Index("ix_files_deleted_at_id", "deleted_at", "id"),  # live files, newest first
        # public live files, newest first: the public branch of the files list
        Index("ix_files_visibility_deleted_id", "visibility", "deleted_at", "id"),
        Index("ix_files_folder_id", "folder_id", "deleted_at", "id"),
        # a folder's files by name, the children list's default order
        Index("ix_files_folder_name", "folder_id", "deleted_at", "filename", "id"),
    )

    id: str = Field(primary_key=True, max_length=26)
    cid: str = Field(index=True, max_length=64)
    owner_id: str = Field(max_length=64)
    size: int = Field(sa_column=Column(BigInteger(), nullable=False))
    content_type: str = Field(max_length=255)
    declared_type: str | None = Field(default=None, max_length=255)
    status: FileStatus = Field(default=FileStatus.stored, sa_type=String(16))
    job_id: str | None = Field(default=None, max_length=26)
    hidden: bool = Field(default=False)
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    deleted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # The folder it is in (None: its owner's user root, for files from before folders).
    folder_id: str | None = Field(default=None, max_length=26)
    # The folder whose delete took it to the trash (restoring that folder restores it).
    deleted_with: str | None = Field(default=None, max_length=26)


class FileRead(FileBase):
    """What the API returns for a file."""

    id: str
    cid: str
    owner_id: str
    size: int
    content_type: str
    declared_type: str | None
    status: FileStatus
    job_id: str | None
    hidden: bool = False
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None
    folder_id: str | None = None
    media: dict[str, Any] | None = None  # what processing found: size, format, capture, ...
    processing: dict[str, Any] | None = None  # profile, done or skipped, warnings
    gps: dict[str, Any] | None = None  # where it was taken: shown to the owner only
    # An image's copy without its personal metadata (GPS, camera, XMP), which others than
    # its owner download from `/content` unless `media.serve_public_originals` is on; None
    # when processing found nothing to strip, or has not run yet.
    stripped_cid: str | None = None


def to_read(file: File, *, actor_id: str | None) -> FileRead:
    """The API view of a file for one reader: GPS only for the file's owner."""
    read = FileRead.model_validate(file, from_attributes=True)
    meta = file.meta or {}
    read.media = meta.get("media")
    read.processing = meta.get("processing")
    read.stripped_cid = meta.get("stripped_cid")
    if actor_id == file.owner_id:
        read.gps = meta.get("gps")
    return read


class FileUpdate(SQLModel):
    """A partial update: only the fields given change. ``hidden`` is for moderators and
    admins: it takes a public file out of everyone else's sight without deleting it."""

    filename: str | None = Field(default=None, min_length=1, max_length=1024)
    visibility: Visibility | None = None
    hidden: bool | None = None
    folder_id: str | None = None  # move it into this folder


class FilePage(SQLModel):
    items: list[FileRead]
    next: str | None
