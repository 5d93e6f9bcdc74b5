"""Folders, groups and shares through the SDK (``client.folders``, ``client.groups``,
``client.shares``; sync and async) against a real server on a loopback port."""

from __future__ import annotations

import asyncio
import inspect
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from mcore.settings import Settings
from mstack_client import (
    AsyncClient,
    Client,
    Conflict,
    FileInfo,
    Folder,
    FolderDeleted,
    Forbidden,
    Invalid,
    NotFound,
    Tokens,
    file_cid,
)
from mstack_client._generated.sdk import sharing as sync_sharing
from mstack_client.asharing import AsyncFolders, AsyncGroups, AsyncShares
from tests.apphelpers import fast
from tests.client.conftest import USERNAME
from tests.conftest import PASSWORD, LiveServer, blob_files


def second_user(server: LiveServer, username: str) -> Tokens:
    """Make another account on the live server; its session's tokens."""
    server.sign_in("user", username=username)
    return Tokens(server.token)


@pytest.fixture
def working_server(settings: Settings) -> Iterator[LiveServer]:
    """A live server with its embedded worker on (the purge job of a folder runs)."""
    quick = fast(settings)
    jobs = quick.jobs.model_copy(update={"embedded_worker": True})
    server = LiveServer(quick.model_copy(update={"jobs": jobs}))
    server.start()
    yield server
    server.stop()


# ---------------------------------------------------------------------- sharing


def test_a_group_member_works_in_a_folder_shared_with_the_group(
    live_server: LiveServer, sdk: Client
) -> None:
    studio = sdk.groups.create("Harbour Studio")
    assert studio.role == "owner"
    assert studio.root_id is not None
    member_tokens = second_user(live_server, "mika")
    added = sdk.groups.add_member(studio, username="mika")
    assert (added.username, added.role) == ("mika", "member")
    assert {(m.username, m.role) for m in sdk.groups.members(studio)} == {
        (USERNAME, "owner"),
        ("mika", "member"),
    }

    proofs = sdk.folders.create("Proofs")
    assert proofs.space == "user"
    kept = sdk.upload(io.BytesIO(b"first proof"), filename="proof-1.txt", folder=proofs)
    assert kept.folder_id == proofs.id
    share = sdk.shares.create("folder", proofs.id, group_id=studio.id, level="view")
    assert (share.object_type, share.object_id, share.group_id) == ("folder", proofs.id, studio.id)
    assert (share.level, share.active) == ("view", True)

    with Client(live_server.url, tokens=member_tokens) as member:
        (mine,) = member.groups.list()
        assert (mine.id, mine.role) == (studio.id, "member")
        # "shared with me" names the folder, reached through the group
        assert [(s.id, s.object_id) for s in member.shares.list(with_="me")] == [
            (share.id, proofs.id)
        ]
        seen = member.folders.get(proofs.id)
        assert (seen.name, seen.access) == ("Proofs", "view")
        assert [f.id for f in member.folders.children(proofs.id)] == [kept.id]
        # view does not add files; edit does
        with pytest.raises(Forbidden) as refused:
            member.upload(io.BytesIO(b"second proof"), filename="proof-2.txt", folder=proofs.id)
        assert refused.value.status == 403
        assert len(list(sdk.folders.children(proofs))) == 1

        raised = sdk.shares.update(share, level="edit")
        assert (raised.id, raised.level) == (share.id, "edit")
        added_file = member.upload(
            io.BytesIO(b"second proof"), filename="proof-2.txt", folder=proofs.id
        )
        assert added_file.folder_id == proofs.id
        names = {f.filename for f in sdk.folders.children(proofs) if isinstance(f, FileInfo)}
        assert names == {"proof-1.txt", "proof-2.txt"}

        revoked = sdk.shares.revoke(share)
        assert revoked.active is False
        assert revoked.revoked_at is not None
        with pytest.raises(NotFound):
            member.folders.get(proofs.id)
        with pytest.raises(NotFound):
            member.get_file(kept.id)
        assert list(member.shares.list(with_="me")) == []
    assert list(sdk.shares.list(with_="others")) == []


def test_shares_by_username_with_an_expiry_and_by_object(
    live_server: LiveServer, sdk: Client
) -> None:
    other_tokens = second_user(live_server, "client-ada")
    file = sdk.upload(io.BytesIO(b"a contact sheet"), filename="sheet.txt")
    ends = datetime.now(UTC) + timedelta(days=7)
    share = sdk.shares.create("file", file.id, username="client-ada", level="view", expires_at=ends)
    assert share.user_id is not None
    assert share.expires_at is not None
    assert abs((share.expires_at - ends).total_seconds()) < 1
    assert [s.id for s in sdk.shares.list(object_type="file", object_id=file.id)] == [share.id]
    assert sdk.shares.get(share.id) == share
    forever = sdk.shares.update(share, expires_at=None)
    assert forever.expires_at is None
    with Client(live_server.url, tokens=other_tokens) as other:
        assert other.get_file(file.id).cid == file_cid(b"a contact sheet")
        with pytest.raises(Forbidden):  # view does not rename
            other.update_file(file.id, filename="mine.txt")
    with pytest.raises(ValueError, match="time zone"):
        sdk.shares.create("file", file.id, username="client-ada", expires_at=datetime(2030, 1, 1))
    with pytest.raises(ValueError, match="one recipient"):
        sdk.shares.create("file", file.id, username="client-ada", group_id=share.id)
    with pytest.raises(NotFound):
        sdk.shares.create("file", file.id, username="nobody-here")


def test_the_async_classes_share_and_revoke(live_server: LiveServer) -> None:
    owner_tokens = Tokens(live_server.token)
    member_tokens = second_user(live_server, "async-member")
    asyncio.run(_async_share_and_revoke(live_server.url, owner_tokens, member_tokens))


async def _async_share_and_revoke(url: str, owner_tokens: Tokens, member_tokens: Tokens) -> None:
    async with (
        AsyncClient(url, tokens=owner_tokens) as owner,
        AsyncClient(url, tokens=member_tokens) as member,
    ):
        group = await owner.groups.create("Async Studio")
        await owner.groups.add_member(group.id, username="async-member", role="staff")
        assert [(g.id, g.role) for g in await member.groups.list()] == [(group.id, "staff")]
        folder = await owner.folders.create("Shared")
        share = await owner.shares.create("folder", folder.id, group_id=group.id, level="edit")
        assert [s.id async for s in member.shares.list()] == [share.id]
        uploaded = await member.upload(io.BytesIO(b"async bytes"), filename="a.txt", folder=folder)
        assert uploaded.folder_id == folder.id
        assert [i.id async for i in owner.folders.children(folder)] == [uploaded.id]
        await owner.shares.revoke(share.id)
        with pytest.raises(NotFound):
            await member.folders.get(folder.id)
        assert [s async for s in member.shares.list()] == []
        await member.groups.leave(group)
        assert await member.groups.list() == []
        assert [m.username for m in await owner.groups.members(group)] == [USERNAME]


def test_group_roles_and_removal(live_server: LiveServer, sdk: Client) -> None:
    other_tokens = second_user(live_server, "sam")
    group = sdk.groups.create("Roles")
    member = sdk.groups.add_member(group, username="sam")
    promoted = sdk.groups.update_member(group, member, role="staff")
    assert promoted.role == "staff"
    with pytest.raises(Conflict):  # a group keeps an owner
        sdk.groups.update_member(group, sdk.me().id, role="member")
    with Client(live_server.url, tokens=other_tokens) as sam:
        assert sam.groups.get(group.id).role == "staff"
        sdk.groups.remove_member(group, member)
        with pytest.raises(NotFound):
            sam.groups.get(group.id)
    with pytest.raises(ValueError, match="one of user_id, username or email"):
        sdk.groups.add_member(group)


# ---------------------------------------------------------------------- folders


def test_folders_nest_rename_move_and_page(sdk: Client) -> None:
    (root,) = sdk.folders.roots()
    assert (root.space, root.parent_id, root.access) == ("user", None, "own")
    a = sdk.folders.create("A")
    b = sdk.folders.create("B", parent=a)
    c = sdk.folders.create("C", parent=b.id)
    assert [crumb.name for crumb in c.path] == ["My files", "A", "B", "C"]
    assert sdk.folders.rename(c, "See").name == "See"
    moved = sdk.folders.move(b, root)
    assert moved.parent_id == root.id
    assert [crumb.name for crumb in sdk.folders.get(c).path] == ["My files", "B", "See"]
    with pytest.raises(Conflict):
        sdk.folders.create("b")  # names are unique among siblings, ignoring case
    with pytest.raises((Invalid, Conflict)):
        sdk.folders.move(b, c)  # never into itself
    files = [
        sdk.upload(io.BytesIO(bytes([n]) * (n + 1)), filename=f"f{n}.bin", folder=a)
        for n in range(3)
    ]
    for sub in ("x", "y"):
        sdk.folders.create(sub, parent=a)
    # one item a page: the iterator follows every cursor, folders first
    listed = list(sdk.folders.children(a, page_size=1))
    assert [type(i).__name__ for i in listed] == [
        "Folder",
        "Folder",
        "FileInfo",
        "FileInfo",
        "FileInfo",
    ]
    assert [i.name for i in listed if isinstance(i, Folder)] == ["x", "y"]
    by_size = [i.id for i in sdk.folders.children(a, sort="-size") if isinstance(i, FileInfo)]
    assert by_size == [f.id for f in reversed(files)]
    page = sdk.folders.children_page(a, limit=2)
    assert (page.folder.id, len(page), page.next is not None) == (a.id, 2, True)
    assert [f.id for f in sdk.list_files(folder_id=a.id).items] == [f.id for f in reversed(files)]
    moved_file = sdk.update_file(files[0].id, folder_id=c.id)
    assert moved_file.folder_id == c.id


def test_unknown_and_foreign_folders_are_not_found(live_server: LiveServer, sdk: Client) -> None:
    mine = sdk.folders.create("Private")
    with pytest.raises(NotFound) as missing:
        sdk.folders.get("01jf3z8w5qk1v9x2b7c4d6e8f0")
    assert missing.value.status == 404
    assert "no folder" in missing.value.detail
    with Client(live_server.url, tokens=second_user(live_server, "outsider")) as outsider:
        with pytest.raises(NotFound):
            outsider.folders.get(mine.id)
        with pytest.raises(NotFound):
            outsider.folders.create("intruder", parent=mine)
        with pytest.raises(NotFound):
            outsider.upload(io.BytesIO(b"x"), filename="x.txt", folder=mine)
    with pytest.raises(Forbidden):
        sdk.folders.create("Logos", space="system")
    assert [f.name for f in sdk.folders.children(mine)] == []


def test_delete_a_folder_then_restore_or_purge(working_server: LiveServer) -> None:
    with Client(working_server.url) as sdk:
        sdk.login(username=USERNAME, password=PASSWORD)
        kept = sdk.folders.create("Kept")
        inside = sdk.folders.create("Inside", parent=kept)
        file = sdk.upload(io.BytesIO(b"kept bytes"), filename="k.txt", folder=inside)
        trashed = sdk.folders.delete(kept)
        assert isinstance(trashed, FolderDeleted)
        assert trashed.deleted_at is not None
        assert trashed.purge_job.kind == "purge_folder"
        with pytest.raises(NotFound):
            sdk.folders.get(inside)
        with pytest.raises(NotFound):
            sdk.get_file(file.id)
        back = sdk.folders.restore(kept)
        assert back.deleted_at is None
        assert [i.id for i in sdk.folders.children(inside)] == [file.id]

        gone = sdk.folders.create("Gone")
        doomed = sdk.upload(io.BytesIO(b"purged bytes"), filename="p.txt", folder=gone)
        purged = sdk.folders.delete(gone, purge=True)
        job = sdk.wait_for_job(purged.purge_job.id, timeout=60)
        assert (job.state, job.result["files"]) == ("succeeded", 1)
        with pytest.raises(NotFound):
            sdk.get_file(doomed.id)
        assert doomed.id not in {f.id for f in sdk.list_files(trashed=True).items}
        # the restored folder's file and its blob are untouched
        assert sdk.get_file(file.id).cid == file_cid(b"kept bytes")
        names = {p.name for p in blob_files(working_server.settings)}
        assert file_cid(b"kept bytes") in names


def test_sync_and_async_classes_have_the_same_methods() -> None:
    pairs = [
        (sync_sharing.Folders, AsyncFolders),
        (sync_sharing.Groups, AsyncGroups),
        (sync_sharing.Shares, AsyncShares),
    ]
    for sync_cls, async_cls in pairs:
        sync_methods = dict(inspect.getmembers(sync_cls, inspect.isfunction))
        async_methods = dict(inspect.getmembers(async_cls, inspect.isfunction))
        assert sync_methods.keys() == async_methods.keys()
        for name, method in sync_methods.items():
            twin = async_methods[name]
            assert inspect.signature(method).parameters.keys() == (
                inspect.signature(twin).parameters.keys()
            ), name
            assert method.__doc__ == twin.__doc__ or name == "__init__", name
    assert isinstance(Client(use_env=False).folders, sync_sharing.Folders)
