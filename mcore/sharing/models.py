"""Groups with members and roles, and shares of files, folders and records."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, String
from sqlmodel import Field, SQLModel

from mcore.access import Level
from mcore.db import UTCDateTime

GROUP_NAME_MAX = 100


class GroupRole(StrEnum):
    owner = "owner"  # manages the group and everything in its space
    staff = "staff"  # manages what is in the group's space; invites members
    member = "member"  # reads the space and uploads into it


# The system groups the platform itself uses (``Group.system``): their members are staff
# of the platform (``staff``) or may upload into users' spaces to help them (``support``).
SYSTEM_GROUPS = ("staff", "support")


class Group(SQLModel, table=True):
    __tablename__ = "groups"

    id: str = Field(primary_key=True, max_length=26)
    name: str = Field(max_length=GROUP_NAME_MAX)
    name_key: str = Field(max_length=GROUP_NAME_MAX, unique=True)
    owner_id: str = Field(max_length=64, index=True)
    # One of SYSTEM_GROUPS for the platform's own groups, else None.
    system: str | None = Field(default=None, max_length=16, unique=True)
    root_id: str | None = Field(default=None, max_length=26)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    deleted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class GroupMember(SQLModel, table=True):
    __tablename__ = "group_members"
    __table_args__ = (Index("ix_group_members_user_id", "user_id", "group_id"),)

    group_id: str = Field(primary_key=True, max_length=26)
    user_id: str = Field(primary_key=True, max_length=64)
    role: GroupRole = Field(default=GroupRole.member, sa_type=String(16))
    added_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ObjectType(StrEnum):
    file = "file"
    folder = "folder"
    record = "record"


class Share(SQLModel, table=True):
    """A grant of ``level`` on one object to one account or one group. A share of a folder
    reaches everything inside it, now and later. Revoked shares keep their row (who had
    what, when) with ``revoked_at`` set."""

    __tablename__ = "shares"
    __table_args__ = (
        Index("ix_shares_object", "object_type", "object_id"),
        Index("ix_shares_user_id", "user_id"),
        Index("ix_shares_group_id", "group_id"),
    )

    id: str = Field(primary_key=True, max_length=26)
    object_type: ObjectType = Field(sa_type=String(16))
    object_id: str = Field(max_length=64)
    user_id: str | None = Field(default=None, max_length=64)
    group_id: str | None = Field(default=None, max_length=26)
    level: int  # mcore.access.Level: 1 view, 2 edit, 3 manage
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))

    @property
    def level_name(self) -> str:
        return Level(self.level).name
