"""``mstack chat start|ls|send|read``: conversations, with ``read --follow`` printing new
messages as they arrive over the events socket."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from mstack_client.cli._context import json_option, state
from mstack_client.cli._jobs import _Deadline, _deadline
from mstack_client.models import Conversation, Message


def _safe(text: str) -> str:
    """Someone else's text, made harmless for a terminal: no escape sequences or other
    control characters (they could rewrite the screen), line breaks and tabs kept."""
    return "".join(c if c in "\n\t" or c.isprintable() else "\ufffd" for c in text)


def _names(conversation: Conversation) -> dict[str, str]:
    return {m["user_id"]: m.get("username") or m["user_id"] for m in conversation.members}


def _title(conversation: Conversation, me: str | None = None) -> str:
    if conversation.name:
        return _safe(conversation.name)
    others = [n for uid, n in _names(conversation).items() if uid != me]
    return _safe(", ".join(others) or conversation.id)


def _message_line(message: Message, names: dict[str, str]) -> str:
    at = message.created_at.astimezone().strftime("%Y-%m-%d %H:%M")
    who = _safe(names.get(message.sender_id, message.sender_id))
    if message.deleted:
        body = "(message deleted)"
    else:
        body = _safe(message.text or "")
        if message.attachments:
            body += "".join(f"\n    [file {cid}]" for cid in message.attachments)
        if message.edited_at is not None:
            body += " (edited)"
    return f"#{message.seq}  {at}  {who}: {body}"


def _message_json(message: Message) -> dict[str, Any]:
    return message.raw


@click.group()
def chat() -> None:
    """Private and group conversations, live."""


@chat.command("start")
@click.argument("members", nargs=-1, required=True, metavar="ACCOUNT_ID...")
@click.option("--name", help="Name a group (without it, one account makes a private chat).")
@json_option
def start(members: tuple[str, ...], name: str | None) -> None:
    """Start a conversation with these accounts (or get your private one with one)."""
    st = state()
    with st.client() as client:
        conversation = client.create_conversation(list(members), name=name)
    st.emit(conversation.raw, lambda: click.echo(f"{conversation.id}  {conversation.kind}"))


@chat.command("ls")
@json_option
def ls() -> None:
    """Your conversations, the most recently active first, with unread counts."""
    st = state()
    with st.client() as client:
        me = client.me().id
        page = client.list_conversations(limit=200)

    def human() -> None:
        for c in page.items:
            unread = f"  {c.unread} unread" if c.unread else ""
            click.echo(f"{c.id}  {c.kind:7}  {_title(c, me)}{unread}")

    st.emit([c.raw for c in page.items], human)


@chat.command("send")
@click.argument("conversation_id")
@click.argument("text")
@click.option(
    "--attach", "attachments", multiple=True, metavar="CID", help="Attach a file by its CID."
)
@json_option
def send(conversation_id: str, text: str, attachments: tuple[str, ...]) -> None:
    """Send TEXT to a conversation ('-' reads it from standard input)."""
    st = state()
    if text == "-":
        text = sys.stdin.read()
    with st.client() as client:
        message = client.send_message(conversation_id, text, attachments=list(attachments))
    st.emit(_message_json(message), lambda: click.echo(f"{message.id}  #{message.seq}"))


@chat.command("read")
@click.argument("conversation_id")
@click.option("--limit", type=click.IntRange(1, 200), default=20, show_default=True)
@click.option("--search", "q", metavar="TEXT", help="Only messages whose text contains TEXT.")
@click.option("--follow", "-f", is_flag=True, help="Then print new messages as they arrive.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="With --follow: stop after this long.",
)
@json_option
def read(
    conversation_id: str, limit: int, q: str | None, follow: bool, timeout: float | None
) -> None:
    """Print a conversation's latest messages, oldest first, and mark them read."""
    st = state()
    with st.client() as client:
        conversation = client.get_conversation(conversation_id)
        names = _names(conversation)
        page = client.list_messages(conversation_id, limit=limit, q=q)
        history = list(reversed(page.items))
        for message in history:
            _print(st.json, message, names)
        if history and q is None:
            client.mark_read(conversation_id, history[-1].id)
        if not follow:
            return
        last = history[-1].seq if history else 0
        try:
            with _deadline(timeout) as check:
                for message in client.follow_messages(conversation_id, since=last):
                    if message.sender_id not in names:  # a member added since
                        names = _names(client.get_conversation(conversation_id))
                    _print(st.json, message, names)
                    client.mark_read(conversation_id, message.id)
                    check()
        except (KeyboardInterrupt, _Deadline):
            return


def _print(as_json: bool, message: Message, names: dict[str, str]) -> None:
    if as_json:
        click.echo(json.dumps(_message_json(message), ensure_ascii=False))
    else:
        click.echo(_message_line(message, names))
    sys.stdout.flush()


COMMANDS = [chat]
