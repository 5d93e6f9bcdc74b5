"""The hand-written API operations as ``Call``s (the per-model ones are generated)."""

from __future__ import annotations

import time
from typing import Any

from mstack_client._core import Call, params, segment
from mstack_client.cid import DAG_CBOR, RAW, is_cid
from mstack_client.models import FileInfo, Job, Page, SignedLink, Tokens, User


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
