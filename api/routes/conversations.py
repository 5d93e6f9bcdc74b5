"""Conversation, message and block routes (msocial.messaging). Every decision is the ops'.

New messages, edits, deletes and membership changes reach members on the events socket
(``WS /api/v1/events``) as ``message.created`` and the rest: docs/api.md has the list.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, patch, post
from litestar.params import JSONBody, PathParameter, QueryParameter

from api.deps import AppSettings, CurrentActor, Session
from api.openapi import doc
from msocial.messaging import blocks, conversations, messages
from msocial.messaging.schemas import (
    BlockCreate,
    BlockRead,
    ConversationCreate,
    ConversationMemberAdd,
    ConversationPage,
    ConversationRead,
    MessageCreate,
    MessagePage,
    MessageRead,
    MessageUpdate,
    ReadMarker,
)

ConversationId = Annotated[str, PathParameter(description="The conversation's id")]
MessageId = Annotated[str, PathParameter(description="The message's id")]
UserId = Annotated[str, PathParameter(description="The account's id")]
Cursor = Annotated[str | None, QueryParameter(description="From the last page's `next`")]
Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Items per page")]
EXAMPLE_USER = "01jh5y3q9x4v8k2m6n7p0r1s2t"
EXAMPLE_CID = "bafkr4ig4ljhnxasawambeqcsymycobuw7ftxdjr3iusquxax2maa5artku"


class ConversationsController(Controller):
    path = "/api/v1/conversations"
    tags = ["conversations"]  # noqa: RUF012 (Litestar reads it as a class attribute)

    @post(
        "/",
        status_code=201,
        summary="Start a conversation",
        opt=doc(
            "conversations_create",
            403,
            request_examples=[
                {"members": [EXAMPLE_USER]},
                {"members": [EXAMPLE_USER, "01jh5y3q9x4v8k2m6n7p0r1s2v"], "name": "Harbour"},
            ],
        ),
        description="One other account and no `name`: a private conversation (200 with the"
        " existing one when the two already have one; 403 when that account blocks you)."
        " A `name` or more accounts: a group, which you administer. At most"
        " `messaging.max_group_members` members (422).",
    )
    async def create(
        self,
        session: Session,
        actor: CurrentActor,
        settings: AppSettings,
        data: JSONBody[ConversationCreate],
    ) -> Response[ConversationRead]:
        read, new = await conversations.create_conversation(
            session, actor=actor, settings=settings, data=data
        )
        return Response(read, status_code=201 if new else 200)

    @get("/", summary="Your conversations", opt=doc("conversations_list"))
    async def list_conversations(
        self, session: Session, actor: CurrentActor, cursor: Cursor = None, limit: Limit = 50
    ) -> ConversationPage:
        """The most recently active first, each with your `unread` count and `read_seq`."""
        return await conversations.list_conversations(
            session, actor=actor, cursor=cursor, limit=limit
        )

    @get("/{conversation_id:str}", summary="Read a conversation", opt=doc("conversations_get"))
    async def get_conversation(
        self, session: Session, actor: CurrentActor, conversation_id: ConversationId
    ) -> ConversationRead:
        """For its members only (404 for everyone else)."""
        return await conversations.get_conversation(
            session, actor=actor, conversation_id=conversation_id
        )

    @post(
        "/{conversation_id:str}/members",
        status_code=201,
        summary="Add a member",
        opt=doc("conversations_add_member", 403, 409, request_examples=[{"user_id": EXAMPLE_USER}]),
    )
    async def add_member(
        self,
        session: Session,
        actor: CurrentActor,
        settings: AppSettings,
        conversation_id: ConversationId,
        data: JSONBody[ConversationMemberAdd],
    ) -> ConversationRead:
        """A group's admins add members (`role` `member` or `admin`); they read the history
        and count it as read. Private conversations take no one (422)."""
        return await conversations.add_member(
            session, actor=actor, settings=settings, conversation_id=conversation_id, data=data
        )

    @delete(
        "/{conversation_id:str}/members/{user_id:str}",
        status_code=204,
        summary="Remove a member, or leave",
        opt=doc("conversations_remove_member", 403),
    )
    async def remove_member(
        self,
        session: Session,
        actor: CurrentActor,
        conversation_id: ConversationId,
        user_id: UserId,
    ) -> None:
        """Your own id leaves; others' need an admin. A removed member sees nothing of the
        conversation from then on (404)."""
        await conversations.remove_member(
            session, actor=actor, conversation_id=conversation_id, user_id=user_id
        )

    @post(
        "/{conversation_id:str}/messages",
        status_code=201,
        summary="Send a message",
        opt=doc(
            "messages_create",
            403,
            413,
            429,
            request_examples=[
                {"text": "hello"},
                {"text": "the proof", "attachments": [EXAMPLE_CID]},
            ],
        ),
        description="Text (at most `messaging.max_message_size` bytes: 413) and files by CID"
        " (`attachments`; every member must be able to read a file of those bytes: 422"
        " otherwise). At most `messaging.messages_per_minute` a minute per account (429)."
        " Every member who does not block you gets `message.created` on the events socket.",
    )
    async def send(
        self,
        session: Session,
        actor: CurrentActor,
        settings: AppSettings,
        conversation_id: ConversationId,
        data: JSONBody[MessageCreate],
    ) -> MessageRead:
        return await messages.send_message(
            session, actor=actor, settings=settings, conversation_id=conversation_id, data=data
        )

    @get(
        "/{conversation_id:str}/messages",
        summary="History and search",
        opt=doc("messages_list"),
    )
    async def history(
        self,
        session: Session,
        actor: CurrentActor,
        conversation_id: ConversationId,
        cursor: Cursor = None,
        limit: Limit = 50,
        q: Annotated[
            str | None,
            QueryParameter(
                max_length=200,
                description="Only messages whose text contains this (any case; `%` and `_`"
                " are taken literally)",
            ),
        ] = None,
    ) -> MessagePage:
        """Newest first. A deleted message stays as a tombstone (`deleted`, no text);
        messages of accounts you block are left out."""
        return await messages.list_messages(
            session, actor=actor, conversation_id=conversation_id, cursor=cursor, limit=limit, q=q
        )

    @patch(
        "/{conversation_id:str}/messages/{message_id:str}",
        summary="Edit a message",
        opt=doc("messages_update", 403, 409, 413, request_examples=[{"text": "hello again"}]),
    )
    async def edit(
        self,
        session: Session,
        actor: CurrentActor,
        settings: AppSettings,
        conversation_id: ConversationId,
        message_id: MessageId,
        data: JSONBody[MessageUpdate],
    ) -> MessageRead:
        """Its sender only; members hear `message.edited`."""
        return await messages.edit_message(
            session,
            actor=actor,
            settings=settings,
            conversation_id=conversation_id,
            message_id=message_id,
            data=data,
        )

    @delete(
        "/{conversation_id:str}/messages/{message_id:str}",
        status_code=200,
        summary="Delete a message",
        opt=doc("messages_delete", 403),
    )
    async def delete_message(
        self,
        session: Session,
        actor: CurrentActor,
        conversation_id: ConversationId,
        message_id: MessageId,
    ) -> MessageRead:
        """Its sender only: the text and attachments go, a tombstone stays in its place;
        members hear `message.deleted`."""
        return await messages.delete_message(
            session, actor=actor, conversation_id=conversation_id, message_id=message_id
        )

    @post(
        "/{conversation_id:str}/read",
        status_code=200,
        summary="Mark read",
        opt=doc("conversations_read", request_examples=[{"message_id": EXAMPLE_USER}]),
    )
    async def mark_read(
        self,
        session: Session,
        actor: CurrentActor,
        conversation_id: ConversationId,
        data: JSONBody[ReadMarker],
    ) -> ConversationRead:
        """Moves your read marker forward to this message (never back); `unread` counts
        what came after it."""
        return await messages.mark_read(
            session, actor=actor, conversation_id=conversation_id, message_id=data.message_id
        )


class BlocksController(Controller):
    path = "/api/v1/blocks"
    tags = ["conversations"]  # noqa: RUF012 (Litestar reads it as a class attribute)

    @post(
        "/",
        status_code=201,
        summary="Block an account",
        opt=doc("blocks_create", 404, request_examples=[{"user_id": EXAMPLE_USER}]),
    )
    async def block(
        self, session: Session, actor: CurrentActor, data: JSONBody[BlockCreate]
    ) -> Response[BlockRead]:
        """Its messages stop reaching you: a private conversation with it takes no more
        from it (403), and in groups you no longer get them. 200 when already blocked."""
        read, new = await blocks.block_account(session, actor=actor, data=data)
        return Response(read, status_code=201 if new else 200)

    @get("/", summary="Accounts you block", opt=doc("blocks_list"))
    async def list_blocks(self, session: Session, actor: CurrentActor) -> list[BlockRead]:
        """The accounts whose messages you do not get, the first blocked first."""
        return await blocks.list_blocks(session, actor=actor)

    @delete("/{user_id:str}", status_code=204, summary="Unblock", opt=doc("blocks_delete"))
    async def unblock(self, session: Session, actor: CurrentActor, user_id: UserId) -> None:
        """Its new messages reach you again (and its earlier ones show in your history)."""
        await blocks.unblock_account(session, actor=actor, user_id=user_id)
