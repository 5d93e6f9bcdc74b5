"""What the conversation routes take and give."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import SQLModel

from msocial.messaging.models import Kind, MemberRole


class ConversationCreate(SQLModel):
    """One other account and no name: a private conversation; a name or more accounts: a
    group, whose creator is its first admin."""

    members: list[str]
    name: str | None = None


class ConversationMemberAdd(SQLModel):
    user_id: str
    role: MemberRole = MemberRole.member


class ConversationMemberRead(SQLModel):
    user_id: str
    username: str
    display_name: str | None
    role: MemberRole


class ConversationRead(SQLModel):
    id: str
    kind: Kind
    name: str | None
    members: list[ConversationMemberRead]
    created_by: str
    created_at: datetime
    updated_at: datetime  # the newest message's time (or the conversation's own)
    last_seq: int  # the number of the newest message
    read_seq: int  # the last message the caller has read
    unread: int  # messages to the caller after read_seq


class ConversationPage(SQLModel):
    items: list[ConversationRead]
    next: str | None


class MessageCreate(SQLModel):
    text: str = ""
    attachments: list[str] = []  # pydantic copies the default for each instance


class MessageUpdate(SQLModel):
    text: str


class MessageRead(SQLModel):
    id: str
    conversation_id: str
    seq: int
    sender_id: str
    text: str | None  # None once deleted
    attachments: list[str]  # file CIDs
    created_at: datetime
    edited_at: datetime | None
    deleted: bool


class MessagePage(SQLModel):
    items: list[MessageRead]
    next: str | None


class ReadMarker(SQLModel):
    message_id: str


class BlockCreate(SQLModel):
    user_id: str


class BlockRead(SQLModel):
    user_id: str
    created_at: datetime
