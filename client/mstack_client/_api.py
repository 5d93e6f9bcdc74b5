"""The hand-written API operations as ``Call``s (the per-model ones are generated)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from mstack_client._core import Call, params, segment
from mstack_client.cid import DAG_CBOR, RAW, is_cid
from mstack_client.models import (
    Conversation,
    FileInfo,
    Folder,
    FolderContents,
    FolderDeleted,
    FollowCounts,
    Group,
    GroupMember,
    Job,
    Message,
    Page,
    Share,
    SignedLink,
    Tokens,
    User,
)

T = TypeVar("T")


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
    folder_id: str | None = None,
) -> Call[Page[FileInfo]]:
    query = params(
        cursor=cursor, limit=limit, mine=mine, trashed=trashed, cid=cid, folder_id=folder_id
    )
    return Call("GET", "/api/v1/files", Page.parser(FileInfo.from_json), params=query)


def update_file(
    file_id: str,
    *,
    filename: str | None = None,
    visibility: str | None = None,
    hidden: bool | None = None,
    folder_id: str | None = None,
) -> Call[FileInfo]:
    given = {
        "filename": filename,
        "visibility": visibility,
        "hidden": hidden,
        "folder_id": folder_id,
    }
    body = {k: v for k, v in given.items() if v is not None}
    return Call("PATCH", f"/api/v1/files/{segment(file_id)}", FileInfo.from_json, json=body)


def delete_file(file_id: str) -> Call[FileInfo]:
    return Call("DELETE", f"/api/v1/files/{segment(file_id)}", FileInfo.from_json)


def restore_file(file_id: str) -> Call[FileInfo]:
    return Call("POST", f"/api/v1/files/{segment(file_id)}/restore", FileInfo.from_json)


def fetch_file(
    url: str, *, filename: str | None = None, cid: str | None = None, folder_id: str | None = None
) -> Call[Job]:
    body: dict[str, Any] = {"url": url}
    given = {"filename": filename, "expected_cid": cid, "folder_id": folder_id}
    body |= {k: v for k, v in given.items() if v is not None}
    return Call("POST", "/api/v1/files/fetch", Job.from_json, json=body)


# -- follows and feeds (msocial) ---------------------------------------------------------


def follow(profile_id: str, *, as_profile: str | None = None) -> Call[FollowCounts]:
    path = f"/api/v1/profiles/{segment(profile_id)}/follow"
    body = {} if as_profile is None else {"profile": as_profile}
    return Call("POST", path, FollowCounts.from_json, json=body)


def unfollow(profile_id: str, *, as_profile: str | None = None) -> Call[FollowCounts]:
    path = f"/api/v1/profiles/{segment(profile_id)}/unfollow"
    body = {} if as_profile is None else {"profile": as_profile}
    return Call("POST", path, FollowCounts.from_json, json=body)


def follow_counts(profile_id: str) -> Call[FollowCounts]:
    return Call("GET", f"/api/v1/profiles/{segment(profile_id)}/follows", FollowCounts.from_json)


_FEEDS = {"profile": "profiles", "following": "following", "group": "groups"}


def feed(
    kind: str,
    owner_id: str | None,
    item: Callable[[dict[str, Any]], T],
    *,
    cursor: str | None = None,
    limit: int | None = None,
    tag: str | None = None,
) -> Call[Page[T]]:
    """``kind``: ``profile`` (its posts), ``following`` (what your profile ``owner_id``
    follows, or with None what all your profiles follow) or ``group`` (a group of
    profiles' members); ``item`` reads a post (the generated model, a layer above this
    module)."""
    if kind not in _FEEDS or (owner_id is None and kind != "following"):
        raise ValueError(f"no feed of kind {kind!r} for {owner_id!r}")
    query = params(cursor=cursor, limit=limit, tag=tag)
    path = f"/api/v1/feeds/{_FEEDS[kind]}"
    if owner_id is not None:
        path += f"/{segment(owner_id)}"
    return Call("GET", path, Page.parser(item), params=query)


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


def get_job(job_id: str) -> Call[Job]:
    return Call("GET", f"/api/v1/jobs/{segment(job_id)}", Job.from_json)


def create_link(ref: str, *, expires_in: int | None = None) -> Call[SignedLink]:
    body: dict[str, Any] = {"cid": ref} if is_cid(ref, RAW) else {"file_id": ref}
    if expires_in is not None:
        body["expires_in"] = expires_in
    return Call("POST", "/api/v1/links", SignedLink.from_json, json=body)


def create_image_link(
    file_id: str, image: dict[str, Any], *, expires_in: int | None = None
) -> Call[SignedLink]:
    body: dict[str, Any] = {"file_id": file_id, "image": image}
    if expires_in is not None:
        body["expires_in"] = expires_in
    return Call("POST", "/api/v1/links", SignedLink.from_json, json=body)


def transform_file(file_id: str, kind: str) -> Call[Job]:
    path = f"/api/v1/files/{segment(file_id)}/transform"
    return Call("POST", path, Job.from_json, json={"kind": kind})


def uploaded(data: Any) -> list[FileInfo]:
    return _files(data)


DAG_CBOR_TYPE = "application/vnd.ipld.dag-cbor"


def get_object(cid: str, *, raw: bool = False) -> Call[dict[str, Any]]:
    """A record block by CID: its JSON form, or (``raw``) its DAG-CBOR bytes."""
    if not is_cid(cid, DAG_CBOR):
        raise ValueError(f"not a record block's CID (bafyr4i...): {cid!r}")
    accept = DAG_CBOR_TYPE if raw else "application/json"
    return Call("GET", f"/api/v1/objects/{segment(cid)}", dict, headers={"Accept": accept})


# -- folders, groups and shares ------------------------------------------------------------


def _listed(item: Any) -> Any:
    """The parser of a plain JSON list of ``item``s."""
    return lambda data: [item(x) for x in data]


def _time_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("give times with a time zone (for example datetime.now(timezone.utc))")
    return value.isoformat()


def create_folder(
    name: str,
    *,
    parent_id: str | None = None,
    space: str | None = None,
    group_id: str | None = None,
) -> Call[Folder]:
    given = {"name": name, "parent_id": parent_id, "space": space, "group_id": group_id}
    body = {k: v for k, v in given.items() if v is not None}
    return Call("POST", "/api/v1/folders", Folder.from_json, json=body)


def folder_roots() -> Call[list[Folder]]:
    return Call("GET", "/api/v1/folders", _listed(Folder.from_json))


def get_folder(folder_id: str) -> Call[Folder]:
    return Call("GET", f"/api/v1/folders/{segment(folder_id)}", Folder.from_json)


def folder_children(
    folder_id: str,
    *,
    cursor: str | None = None,
    limit: int | None = None,
    sort: str | None = None,
) -> Call[FolderContents]:
    query = params(cursor=cursor, limit=limit, sort=sort)
    path = f"/api/v1/folders/{segment(folder_id)}/children"
    return Call("GET", path, FolderContents.from_json, params=query)


def update_folder(
    folder_id: str, *, name: str | None = None, parent_id: str | None = None
) -> Call[Folder]:
    body = {k: v for k, v in {"name": name, "parent_id": parent_id}.items() if v is not None}
    return Call("PATCH", f"/api/v1/folders/{segment(folder_id)}", Folder.from_json, json=body)


def delete_folder(folder_id: str, *, purge: bool = False) -> Call[FolderDeleted]:
    path = f"/api/v1/folders/{segment(folder_id)}"
    return Call("DELETE", path, FolderDeleted.from_json, params=params(purge=purge or None))


def restore_folder(folder_id: str) -> Call[Folder]:
    return Call("POST", f"/api/v1/folders/{segment(folder_id)}/restore", Folder.from_json)


def create_group(name: str) -> Call[Group]:
    return Call("POST", "/api/v1/groups", Group.from_json, json={"name": name})


def list_groups() -> Call[list[Group]]:
    return Call("GET", "/api/v1/groups", _listed(Group.from_json))


def system_groups() -> Call[list[Group]]:
    return Call("GET", "/api/v1/admin/system-groups", _listed(Group.from_json))


def get_group(group_id: str) -> Call[Group]:
    return Call("GET", f"/api/v1/groups/{segment(group_id)}", Group.from_json)


def group_members(group_id: str) -> Call[list[GroupMember]]:
    path = f"/api/v1/groups/{segment(group_id)}/members"
    return Call("GET", path, _listed(GroupMember.from_json))


def add_group_member(
    group_id: str,
    *,
    user_id: str | None = None,
    username: str | None = None,
    email: str | None = None,
    role: str | None = None,
) -> Call[GroupMember]:
    who = {"user_id": user_id, "username": username, "email": email}
    body: dict[str, Any] = {k: v for k, v in who.items() if v is not None}
    if len(body) != 1:
        raise ValueError("name the new member by one of user_id, username or email")
    if role is not None:
        body["role"] = role
    path = f"/api/v1/groups/{segment(group_id)}/members"
    return Call("POST", path, GroupMember.from_json, json=body)


def update_group_member(group_id: str, user_id: str, *, role: str) -> Call[GroupMember]:
    path = f"/api/v1/groups/{segment(group_id)}/members/{segment(user_id)}"
    return Call("PATCH", path, GroupMember.from_json, json={"role": role})


def remove_group_member(group_id: str, user_id: str) -> Call[None]:
    path = f"/api/v1/groups/{segment(group_id)}/members/{segment(user_id)}"
    return Call("DELETE", path, nothing)


def create_share(
    object_type: str,
    object_id: str,
    *,
    user_id: str | None = None,
    username: str | None = None,
    group_id: str | None = None,
    level: str | None = None,
    expires_at: datetime | None = None,
) -> Call[Share]:
    recipient = {"user_id": user_id, "username": username, "group_id": group_id}
    given = {k: v for k, v in recipient.items() if v is not None}
    if len(given) != 1:
        raise ValueError("share with one recipient: user_id, username or group_id")
    body: dict[str, Any] = {"object_type": object_type, "object_id": object_id, **given}
    if level is not None:
        body["level"] = level
    if expires_at is not None:
        body["expires_at"] = _time_text(expires_at)
    return Call("POST", "/api/v1/shares", Share.from_json, json=body)


def list_shares(
    *,
    with_: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Call[Page[Share]]:
    if object_id is not None and object_type is None:
        raise ValueError("give object_type with object_id")
    query = params(
        cursor=cursor, limit=limit, object_type=object_type, object_id=object_id, **{"with": with_}
    )
    return Call("GET", "/api/v1/shares", Page.parser(Share.from_json), params=query)


def get_share(share_id: str) -> Call[Share]:
    return Call("GET", f"/api/v1/shares/{segment(share_id)}", Share.from_json)


def update_share(share_id: str, changes: dict[str, Any]) -> Call[Share]:
    """``changes``: ``level`` and/or ``expires_at`` (None there: no expiry)."""
    body = {k: _time_text(v) if k == "expires_at" else v for k, v in changes.items()}
    return Call("PATCH", f"/api/v1/shares/{segment(share_id)}", Share.from_json, json=body)


def revoke_share(share_id: str) -> Call[Share]:
    return Call("DELETE", f"/api/v1/shares/{segment(share_id)}", Share.from_json)
