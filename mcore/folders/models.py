"""Folders: a tree per space (``system``, ``user``, ``group``), held as materialised paths.

A folder's ``path`` is its ancestors' ids and its own (``mcore.folders.paths``), so its
children, its whole subtree and its breadcrumbs are each one indexed query at any depth.
Each space has one root (``parent_id`` None): an account's user root, a group's root, the
instance's system root. ``scope`` names the root a folder's siblings share with it, and
``name_key`` its case-folded name: a live folder's name is unique among its siblings.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, String, text
from sqlmodel import Field, SQLModel

from mcore.db import UTCDateTime

NAME_MAX = 255


class Space(StrEnum):
    system = "system"  # platform assets: staff only
    user = "user"  # an account's own files
    group = "group"  # a group's shared space (a studio, a store)


class Folder(SQLModel, table=True):
    __tablename__ = "folders"
    __table_args__ = (
        Index("ix_folders_path", "path"),
        Index("ix_folders_parent_id", "parent_id", "name_key"),
        Index(
            "uq_folders_live_sibling_name",
            "sibling_scope",
            "name_key",
            unique=True,
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("ix_folders_space_owner", "space", "owner_id", "group_id"),
    )

    id: str = Field(primary_key=True, max_length=26)
    name: str = Field(max_length=NAME_MAX)
    name_key: str = Field(max_length=NAME_MAX)
    space: Space = Field(sa_type=String(16))
    # The account whose space it is (user space), or who made it (group and system).
    owner_id: str = Field(max_length=64)
    group_id: str | None = Field(default=None, max_length=26)
    parent_id: str | None = Field(default=None, max_length=26)
    path: str = Field(max_length=4096)
    # Siblings share it: the parent's id, or for a root the space and its holder.
    sibling_scope: str = Field(max_length=128)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    deleted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # The folder whose delete took this one to the trash with it (itself for that folder).
    deleted_with: str | None = Field(default=None, max_length=26, index=True)


class FolderCreate(SQLModel):
    name: str = Field(min_length=1, max_length=NAME_MAX)
    parent_id: str | None = None
    space: Space | None = None
    group_id: str | None = None


class FolderUpdate(SQLModel):
    """Rename, move (a new ``parent_id``), or both."""

    name: str | None = Field(default=None, min_length=1, max_length=NAME_MAX)
    parent_id: str | None = None


class Crumb(SQLModel):
    id: str
    name: str


class FolderRead(SQLModel):
    id: str
    name: str
    parent_id: str | None
    space: Space
    group_id: str | None
    owner_id: str
    path: list[Crumb]  # the breadcrumbs, root first, this folder last
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None
    # What the caller may do here: view, edit, manage or own.
    access: str | None = None
