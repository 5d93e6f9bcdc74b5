"""The file manager's op: the owner's files or trash in an order, of a type, by name, a
keyset page at a time; what it refuses."""

from __future__ import annotations

from typing import Any

import pytest

from mcore.access import Actor, Role
from mcore.errors import Invalid
from mcore.files.ops import browse_files, trash_file
from tests import media
from tests.conftest import AuthedClient, MakeClient


async def _upload(http: AuthedClient, name: str, data: bytes) -> dict[str, Any]:
    reply = await http.post("/api/v1/files", params={"filename": name}, content=data)
    assert reply.status_code == 201, reply.text
    return dict(reply.json()[0])


def _names(page: Any) -> list[str]:
    return [f.filename for f in page.items]


async def test_sort_filter_search_and_pages(server_app: Any, client: AuthedClient) -> None:
    made = {
        "b.txt": await _upload(client, "b.txt", b"x" * 30),
        "A.png": await _upload(client, "A.png", media.png(64, 64)),
        "c_50%.txt": await _upload(client, "c_50%.txt", b"x" * 20),
        "d.pdf": await _upload(client, "d.pdf", media.pdf()),
    }
    by_size = sorted(made, key=lambda name: (-made[name]["size"], made[name]["id"]))
    me = Actor(id=str(client.user_id), role=Role.user)
    async with server_app.state.db.session() as session:
        newest = await browse_files(session, actor=me)
        assert _names(newest) == ["d.pdf", "c_50%.txt", "A.png", "b.txt"]
        by_name = await browse_files(session, actor=me, sort="name")
        assert _names(by_name) == ["A.png", "b.txt", "c_50%.txt", "d.pdf"]  # any case
        largest = await browse_files(session, actor=me, sort="-size")
        assert _names(largest) == by_size
        texts = await browse_files(session, actor=me, kind="text")
        assert sorted(_names(texts)) == ["b.txt", "c_50%.txt"]
        # the name's own % is a character, not a wildcard
        assert _names(await browse_files(session, actor=me, name="_50%")) == ["c_50%.txt"]
        assert _names(await browse_files(session, actor=me, name="%")) == ["c_50%.txt"]
        assert _names(await browse_files(session, actor=me, name="a.P")) == ["A.png"]
        for sort in ("-created", "name", "-size", "size"):
            seen: list[str] = []
            cursor = None
            while True:
                page = await browse_files(session, actor=me, sort=sort, limit=1, cursor=cursor)
                seen += _names(page)
                cursor = page.next
                if cursor is None:
                    break
            full = await browse_files(session, actor=me, sort=sort)
            assert seen == _names(full), sort
        first = await browse_files(session, actor=me, sort="name", limit=2)
        with pytest.raises(Invalid, match="cursor"):
            await browse_files(session, actor=me, sort="size", cursor=first.next)
        with pytest.raises(Invalid, match="cannot sort files by 'owner'"):
            await browse_files(session, actor=me, sort="owner")
        with pytest.raises(Invalid, match="no file type 'exe'"):
            await browse_files(session, actor=me, kind="exe")


async def test_only_the_owners_files_and_trash(
    server_app: Any, client: AuthedClient, make_client: MakeClient
) -> None:
    other = await make_client("user")
    mine = await _upload(client, "mine.txt", b"mine")
    gone = await _upload(client, "gone.txt", b"gone")
    await _upload(other, "theirs.txt", b"theirs")
    me = Actor(id=str(client.user_id), role=Role.user)
    async with server_app.state.db.session(write=True) as session:
        await trash_file(session, actor=me, file_id=gone["id"])
    async with server_app.state.db.session() as session:
        assert _names(await browse_files(session, actor=me)) == [mine["filename"]]
        assert _names(await browse_files(session, actor=me, trashed=True)) == ["gone.txt"]
        them = Actor(id=str(other.user_id), role=Role.user)
        assert _names(await browse_files(session, actor=them, trashed=True)) == []
