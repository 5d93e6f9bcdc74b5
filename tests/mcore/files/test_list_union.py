"""The files list's page as a ``UNION`` of one page per access rule (PostgreSQL's list):
over a mixed data set (own, public, hidden, trashed, shared directly, to a group, through
a folder, expired and revoked shares, a group's space), each principal's pages, cursors
and filters are those of the plain ``readable_files`` filter (SQLite's list) and of the
list op, and its rows those ``file_level`` lets them view."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from mcore.access import ANONYMOUS, Actor, Level, Role
from mcore.access.objects import file_level, readable_file_rules, readable_files
from mcore.db import Database
from mcore.files.models import File
from mcore.files.ops import list_files
from mcore.pagination import page_by_id, page_by_id_union
from tests.conftest import AuthedClient, MakeClient


async def _upload(http: AuthedClient, name: str, data: bytes, folder_id: str | None = None) -> str:
    params = {"filename": name} | ({"folder_id": folder_id} if folder_id else {})
    reply = await http.post("/api/v1/files", params=params, content=data)
    assert reply.status_code == 201, reply.text
    return str(reply.json()[0]["id"])


async def _ok(reply: Any) -> Any:
    response = await reply
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def _query(where: dict[str, str]) -> Any:
    query = select(File).where(col(File.deleted_at).is_(None))
    for key, value in where.items():
        query = query.where(col(getattr(File, key)) == value)
    return query


async def _union(
    session: Any, actor: Actor, where: dict[str, str], cursor: str | None, limit: int
) -> tuple[list[str], str | None]:
    """A page of each rule, merged (what the list does on PostgreSQL)."""
    rules = readable_file_rules(actor)
    rows, after = await page_by_id_union(
        session, _query(where), col(File.id), rules, cursor=cursor, limit=limit
    )
    return [f.id for f in rows], after


async def _plain(
    session: Any, actor: Actor, where: dict[str, str], cursor: str | None, limit: int
) -> tuple[list[str], str | None]:
    """One query, the ``OR`` of the rules (what the list does on SQLite)."""
    query = _query(where).where(readable_files(actor))
    rows, after = await page_by_id(session, query, col(File.id), cursor=cursor, limit=limit)
    return [f.id for f in rows], after


async def _listed(
    session: Any, actor: Actor, where: dict[str, str], cursor: str | None, limit: int
) -> tuple[list[str], str | None]:
    page = await list_files(
        session,
        actor=actor,
        cursor=cursor,
        limit=limit,
        cid=where.get("cid"),
        folder_id=where.get("folder_id"),
    )
    return [f.id for f in page.items], page.next


async def _walk(
    pages: Any, session: Any, actor: Actor, where: dict[str, str], limit: int
) -> tuple[list[str], list[str | None]]:
    """Every id of a list, a page of ``limit`` at a time, and the cursors it gave."""
    ids: list[str] = []
    cursors: list[str | None] = []
    cursor = None
    while True:
        rows, cursor = await pages(session, actor, where, cursor, limit)
        ids += rows
        cursors.append(cursor)
        if cursor is None:
            return ids, cursors


async def test_union_pages_are_the_plain_filters_pages(
    server_app: Any, make_client: MakeClient, frozen_clock: Any
) -> None:
    owner = await make_client("user")
    friend = await make_client("user")
    lead = await make_client("user")
    member = await make_client("user")
    stranger = await make_client("user")
    moderator = await make_client("moderator")
    group = await _ok(lead.post("/api/v1/groups", json={"name": "Studio"}))
    await _ok(
        lead.post(
            f"/api/v1/groups/{group['id']}/members",
            json={"username": member.username, "role": "member"},
        )
    )
    proofs = await _ok(owner.post("/api/v1/folders", json={"name": "Proofs"}))
    inner = await _ok(
        owner.post("/api/v1/folders", json={"name": "Inner", "parent_id": proofs["id"]})
    )
    kept = await _ok(owner.post("/api/v1/folders", json={"name": "Kept"}))
    # ids interleave across owners and rules, so every page mixes them
    made: dict[str, str] = {}
    for n in range(4):
        made[f"own{n}"] = await _upload(owner, f"own{n}.txt", f"own {n}".encode())
        made[f"proof{n}"] = await _upload(owner, f"proof{n}.txt", b"same bytes", proofs["id"])
        made[f"inner{n}"] = await _upload(owner, f"inner{n}.txt", f"in {n}".encode(), inner["id"])
        made[f"kept{n}"] = await _upload(owner, f"kept{n}.txt", f"kept {n}".encode(), kept["id"])
        made[f"lead{n}"] = await _upload(lead, f"lead{n}.txt", f"lead {n}".encode())
        made[f"group{n}"] = await _upload(
            lead, f"group{n}.txt", f"group {n}".encode(), group["root_id"]
        )
        made[f"stranger{n}"] = await _upload(stranger, f"s{n}.txt", b"same bytes")
        made[f"friend{n}"] = await _upload(friend, f"f{n}.txt", f"friend {n}".encode())

    def share(object_type: str, object_id: str, **to: Any) -> Any:
        body = {"object_type": object_type, "object_id": object_id, "level": "view", **to}
        return _ok(owner.post("/api/v1/shares", json=body))

    for name in ("stranger0", "stranger2"):
        await _ok(stranger.patch(f"/api/v1/files/{made[name]}", json={"visibility": "public"}))
    await _ok(owner.patch(f"/api/v1/files/{made['own1']}", json={"visibility": "public"}))
    await _ok(moderator.patch(f"/api/v1/files/{made['stranger2']}", json={"hidden": True}))
    await share("file", made["own0"], user_id=friend.user_id)
    await share("file", made["kept1"], group_id=group["id"])
    await share("file", made["kept2"], user_id=friend.user_id)  # trashed below
    await share("folder", proofs["id"], group_id=group["id"])
    soon = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()
    await share("file", made["kept3"], user_id=friend.user_id, expires_at=soon)
    revoked = await share("folder", kept["id"], user_id=friend.user_id)
    await _ok(owner.delete(f"/api/v1/shares/{revoked['id']}"))
    await _ok(owner.delete(f"/api/v1/files/{made['kept2']}"))
    await _ok(owner.delete(f"/api/v1/files/{made['proof1']}"))
    await _ok(stranger.delete(f"/api/v1/files/{made['stranger0']}"))  # a public one
    frozen_clock.offset += 121  # the share of kept3 has expired

    actors = {
        "owner": Actor(id=str(owner.user_id), role=Role.user),
        "friend": Actor(id=str(friend.user_id), role=Role.user),
        "lead": Actor(id=str(lead.user_id), role=Role.user),
        "member": Actor(id=str(member.user_id), role=Role.user),
        "stranger": Actor(id=str(stranger.user_id), role=Role.user),
        "moderator": Actor(id=str(moderator.user_id), role=Role.moderator),
        "anonymous": ANONYMOUS,
    }
    filters: list[dict[str, str]] = [{}, {"folder_id": proofs["id"]}, {"folder_id": kept["id"]}]
    async with server_app.state.db.session() as session:
        rows = (await session.exec(select(File))).all()
        filters.append({"cid": next(row.cid for row in rows if row.id == made["proof0"])})
        for who, actor in actors.items():
            viewable = [
                row
                for row in rows
                if row.deleted_at is None and await file_level(session, actor, row) >= Level.view
            ]
            for where in filters:
                expected = sorted(
                    (r.id for r in viewable if all(getattr(r, k) == v for k, v in where.items())),
                    reverse=True,
                )
                for limit in (1, 2, 3, 50):
                    got = await _walk(_union, session, actor, where, limit)
                    assert got == await _walk(_plain, session, actor, where, limit), (who, where)
                    assert got == await _walk(_listed, session, actor, where, limit), (who, where)
                    assert got[0] == expected, (who, where, limit)
        # the data set mixes the rules: each reaches something the others do not
        names = {v: k for k, v in made.items()}
        seen = {
            who: {names[i] for i in (await _walk(_listed, session, actor, {}, 50))[0]}
            for who, actor in actors.items()
        }
    assert seen["friend"] == {
        "own0",  # shared with them
        "own1",  # public
        *(f"friend{n}" for n in range(4)),  # their own
    }  # not kept2 (trashed), kept3 (expired), Kept (revoked), stranger2 (hidden)
    assert seen["member"] == {
        "own1",
        "kept1",  # shared with their group
        *(f"proof{n}" for n in (0, 2, 3)),  # in a folder shared with their group
        *(f"inner{n}" for n in range(4)),  # and a folder inside it
        *(f"group{n}" for n in range(4)),  # in their group's space
    }
    assert seen["anonymous"] == {"own1"}


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_postgresql_connections_compile_nothing(db: Database) -> None:
    """JIT off: it spent 0.5 s compiling each page of the files list (bench/README.md)."""
    async with db.session() as session:
        assert await session.scalar(text("SHOW jit")) == "off"
