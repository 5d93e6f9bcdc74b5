"""Conversations, their members, their messages, and blocks between accounts.

A conversation numbers its messages 1, 2, 3... (``Message.seq``, from ``Conversation.
last_seq``): history pages by it, and a member's read marker is the number of the last
message they read. Each member's ``unread`` is a counter kept as messages arrive and
recounted (from the marker on, over the index) when the marker moves, so listing
conversations with their unread counts scans no history.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Index, String, Text
from sqlmodel import Field, SQLModel

from mcore.db import UTCDateTime

NAME_MAX = 100


class Kind(StrEnum):
    private = "private"  # exactly two accounts; one conversation per pair
    group = "group"  # named, with admins who add and remove members


class MemberRole(StrEnum):
    admin = "admin"  # adds and removes members (a group's creator is its first)
    member = "member"


class Conversation(SQLModel, table=True):
    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_updated_at", "updated_at", "id"),)

    id: str = Field(primary_key=True, max_length=26)
    kind: Kind = Field(sa_type=String(16))
    name: str | None = Field(default=None, max_length=NAME_MAX)
    # a private conversation's two account ids, sorted and joined by a space: unique, so
    # two requests to start the same one make one
    pair_key: str | None = Field(default=None, max_length=160, unique=True)
    created_by: str = Field(max_length=64)
    last_seq: int = Field(default=0)  # the number of the newest message
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ConversationMember(SQLModel, table=True):
    __tablename__ = "conversation_members"
    __table_args__ = (Index("ix_conversation_members_user_id", "user_id", "conversation_id"),)

    conversation_id: str = Field(primary_key=True, max_length=26)
    user_id: str = Field(primary_key=True, max_length=64)
    role: MemberRole = Field(default=MemberRole.member, sa_type=String(16))
    read_seq: int = Field(default=0)  # the last message this member has read
    unread: int = Field(default=0)  # messages to them after read_seq (not their own)
    added_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Message(SQLModel, table=True):
    """One message; a deleted one keeps its row and number with no text (a tombstone)."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("uq_messages_conversation_seq", "conversation_id", "seq", unique=True),
        Index("ix_messages_sender_created", "sender_id", "created_at"),
    )

    id: str = Field(primary_key=True, max_length=26)
    conversation_id: str = Field(max_length=26)
    seq: int
    sender_id: str = Field(max_length=64)
    text: str | None = Field(default=None, sa_column=Column(Text()))
    attachments: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )  # file CIDs
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    edited_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    deleted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class AccountBlock(SQLModel, table=True):
    """``blocker_id`` hears nothing more from ``blocked_id``."""

    __tablename__ = "account_blocks"
    __table_args__ = (Index("ix_account_blocks_blocked_id", "blocked_id"),)

    blocker_id: str = Field(primary_key=True, max_length=64)
    blocked_id: str = Field(primary_key=True, max_length=64)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
