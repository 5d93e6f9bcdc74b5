"""The hand-written API operations as ``Call``s (the per-model ones are generated)."""

from __future__ import annotations

import time
from typing import Any

from mstack_client._core import Call, params, segment
from mstack_client.cid import DAG_CBOR, RAW, is_cid
from mstack_client.models import (
    Conversation,
    FileInfo,
    Job,
    Message,
    Page,
    SignedLink,
    Tokens,
    User,
)


def _files(data: Any) -> list[FileInfo]:
    return [FileInfo.from_json(item) for item in data]


def nothing(_: Any) -> None:
    """For answers without a body worth reading."""
    return


def health() -> Call[dict[str, Any]]:
    return Call("GET", "/health", lambda data: dict(data), auth=False)


def login(*, email: str | None, username: str | None, password: str) -> Call[Tokens]:
    if (email is None) == (username is None):
        raise ValueError("sign in with either an email or a username")
    body: dict[str, Any] = {"password": password}
    body["email" if email is not None else "username"] = email if email is not None else username
    now = time.time()
    return Call(
        "POST",
        "/api/v1/auth/login",
        lambda data: Tokens.from_login(data, now=now),
        json=body,
        auth=False,
    )


def register(
    *,
    email: str,
    username: str,
    password: str,
    display_name: str | None = None,
    phone: str | None = None,
) -> Call[User]:
    body: dict[str, Any] = {"email": email, "username": username, "password": password}
    given = {"display_name": display_name, "phone": phone}
    body |= {k: v for k, v in given.items() if v is not None}
    return Call("POST", "/api/v1/auth/register", User.from_json, json=body, auth=False)


def logout() -> Call[None]:
    return Call("POST", "/api/v1/auth/logout", nothing)


def me() -> Call[User]:
    return Call("GET", "/api/v1/auth/me", User.from_json)


def get_file(file_id: str) -> Call[FileInfo]:
    return Call("GET", f"/api/v1/files/{segment(file_id)}", FileInfo.from_json)


def list_files(
    *,
    cursor: str | None = None,
    limit: int | None = None,
    mine: bool | None = None,
    trashed: bool | None = None,
    cid: str | None = None,
) -> Call[Page[FileInfo]]:
    query = params(cursor=cursor, limit=limit, mine=mine, trashed=trashed, cid=cid)
    return Call("GET", "/api/v1/files", Page.parser(FileInfo.from_json), params=query)


def update_file(
    file_id: str,
    *,
    filename: str | None = None,
    visibility: str | None = None,
    hidden: bool | None = None,
) -> Call[FileInfo]:
    given = {"filename": filename, "visibility": visibility, "hidden": hidden}
    body = {k: v for k, v in given.items() if v is not None}
    return Call("PATCH", f"/api/v1/files/{segment(file_id)}", FileInfo.from_json, json=body)


def delete_file(file_id: str) -> Call[FileInfo]:
    return Call("DELETE", f"/api/v1/files/{segment(file_id)}", FileInfo.from_json)


def restore_file(file_id: str) -> Call[FileInfo]:
    return Call("POST", f"/api/v1/files/{segment(file_id)}/restore", FileInfo.from_json)


def fetch_file(url: str, *, filename: str | None = None, cid: str | None = None) -> Call[Job]:
    body: dict[str, Any] = {"url": url}
    body |= {k: v for k, v in {"filename": filename, "expected_cid": cid}.items() if v is not None}
    return Call("POST", "/api/v1/files/fetch", Job.from_json, json=body)


def get_job(job_id: str) -> Call[Job]:
    return Call("GET", f"/api/v1/jobs/{segment(job_id)}", Job.from_json)


def create_link(ref: str, *, expires_in: int | None = None) -> Call[SignedLink]:
    body: dict[str, Any] = {"cid": ref} if is_cid(ref, RAW) else {"file_id": ref}
    if expires_in is not None:
        body["expires_in"] = expires_in
    return Call("POST", "/api/v1/links", SignedLink.from_json, json=body)


def uploaded(data: Any) -> list[FileInfo]:
    return _files(data)


DAG_CBOR_TYPE = "application/vnd.ipld.dag-cbor"


def get_object(cid: str, *, raw: bool = False) -> Call[dict[str, Any]]:
    """A record block by CID: its JSON form, or (``raw``) its DAG-CBOR bytes."""
    if not is_cid(cid, DAG_CBOR):
        raise ValueError(f"not a record block's CID (bafyr4i...): {cid!r}")
    accept = DAG_CBOR_TYPE if raw else "application/json"
    return Call("GET", f"/api/v1/objects/{segment(cid)}", dict, headers={"Accept": accept})


# -- conversations (msocial messaging) -------------------------------------------------------

CONVERSATIONS = "/api/v1/conversations"


def _in(conversation_id: str, rest: str = "") -> str:
    return f"{CONVERSATIONS}/{segment(conversation_id)}{rest}"


def create_conversation(members: list[str], *, name: str | None = None) -> Call[Conversation]:
    body: dict[str, Any] = {"members": list(members)}
    if name is not None:
        body["name"] = name
    return Call("POST", CONVERSATIONS, Conversation.from_json, json=body)


def list_conversations(
    *, cursor: str | None = None, limit: int | None = None
) -> Call[Page[Conversation]]:
    query = params(cursor=cursor, limit=limit)
    return Call("GET", CONVERSATIONS, Page.parser(Conversation.from_json), params=query)


def get_conversation(conversation_id: str) -> Call[Conversation]:
    return Call("GET", _in(conversation_id), Conversation.from_json)


def add_member(
    conversation_id: str, user_id: str, *, role: str | None = None
) -> Call[Conversation]:
    body: dict[str, Any] = {"user_id": user_id}
    if role is not None:
        body["role"] = role
    return Call("POST", _in(conversation_id, "/members"), Conversation.from_json, json=body)


def remove_member(conversation_id: str, user_id: str) -> Call[None]:
    return Call("DELETE", _in(conversation_id, f"/members/{segment(user_id)}"), nothing)


def send_message(
    conversation_id: str, text: str, *, attachments: list[str] | None = None
) -> Call[Message]:
    body: dict[str, Any] = {"text": text}
    if attachments:
        body["attachments"] = list(attachments)
    return Call("POST", _in(conversation_id, "/messages"), Message.from_json, json=body)


def list_messages(
    conversation_id: str,
    *,
    cursor: str | None = None,
    limit: int | None = None,
    q: str | None = None,
) -> Call[Page[Message]]:
    query = params(cursor=cursor, limit=limit, q=q)
    path = _in(conversation_id, "/messages")
    return Call("GET", path, Page.parser(Message.from_json), params=query)


def edit_message(conversation_id: str, message_id: str, text: str) -> Call[Message]:
    path = _in(conversation_id, f"/messages/{segment(message_id)}")
    return Call("PATCH", path, Message.from_json, json={"text": text})


def delete_message(conversation_id: str, message_id: str) -> Call[Message]:
    path = _in(conversation_id, f"/messages/{segment(message_id)}")
    return Call("DELETE", path, Message.from_json)


def mark_read(conversation_id: str, message_id: str) -> Call[Conversation]:
    body = {"message_id": message_id}
    return Call("POST", _in(conversation_id, "/read"), Conversation.from_json, json=body)


def block(user_id: str) -> Call[None]:
    return Call("POST", "/api/v1/blocks", nothing, json={"user_id": user_id})


def unblock(user_id: str) -> Call[None]:
    return Call("DELETE", f"/api/v1/blocks/{segment(user_id)}", nothing)
