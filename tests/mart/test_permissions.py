"""Who may read and write art records (DESIGN.md's table), checked at the op level with
explicit actors, and links that point at what the writer may not read."""

from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import SQLModel

from mart._generated import ops
from mart._generated.models import (
    ArtistCreate,
    ArtistUpdate,
    ImageFileCreate,
    ImageFileUpdate,
    ImageReleaseCreate,
    ImageReleaseUpdate,
    StillImageCreate,
)
from mcore.access import Actor, Role
from mcore.db import Database
from mcore.errors import Forbidden, Invalid, NotFound
from mcore.files import ops as file_ops
from mcore.files.models import FileUpdate
from mcore.records.models import Block, Record, RecordVersion
from mcore.records.versions import read_block
from mcore.refs import BlobRef
from mcore.settings import Settings
from mcore.storage import LocalBlobStore
from tests.recordkit import (
    ADMIN,
    ALICE,
    BOB,
    GUEST,
    MODERATOR,
    READ_ONLY_KEY,
    count,
    png,
    read,
    upload,
    write,
)


def artist(name: str = "Maren", visibility: str = "private") -> ArtistCreate:
    return ArtistCreate.model_validate({"name": {"full": name}, "visibility": visibility})


async def test_private_records_are_the_owners_and_staffs(db: Database) -> None:
    mine = await write(db, ops.create_artist, actor=ALICE, data=artist())
    assert mine.owner_id == "alice"
    for reader in (ALICE, MODERATOR, ADMIN):
        assert (await read(db, ops.get_artist, actor=reader, artist_id=mine.id)).id == mine.id
        versions = await read(db, ops.artist_versions, actor=reader, artist_id=mine.id)
        assert len(versions.items) == 1
        assert await read(db, read_block, actor=reader, cid=mine.content_cid)
    for stranger in (BOB, GUEST):
        with pytest.raises(NotFound):
            await read(db, ops.get_artist, actor=stranger, artist_id=mine.id)
        with pytest.raises(NotFound):
            await read(db, ops.artist_versions, actor=stranger, artist_id=mine.id)
        with pytest.raises(NotFound):
            await read(
                db, ops.get_artist_version, actor=stranger, artist_id=mine.id, version_cid=mine.cid
            )
        for cid in (mine.cid, mine.content_cid):
            with pytest.raises(NotFound):
                await read(db, read_block, actor=stranger, cid=cid)
        assert (await read(db, ops.list_artists, actor=stranger)).items == []


async def test_public_records_are_everyones_to_read_and_the_owners_to_change(
    db: Database,
) -> None:
    public = await write(db, ops.create_artist, actor=ALICE, data=artist(visibility="public"))
    for reader in (BOB, GUEST):
        assert (await read(db, ops.get_artist, actor=reader, artist_id=public.id)).id == public.id
        assert await read(db, read_block, actor=reader, cid=public.cid)
        assert [a.id for a in (await read(db, ops.list_artists, actor=reader)).items] == [public.id]
    for outsider in (BOB, GUEST, MODERATOR):
        with pytest.raises(Forbidden):
            await write(
                db,
                ops.update_artist,
                actor=outsider,
                artist_id=public.id,
                data=ArtistUpdate(bio="mine now"),
            )
        with pytest.raises(Forbidden):
            await write(db, ops.delete_artist, actor=outsider, artist_id=public.id)
        with pytest.raises(Forbidden):
            await write(db, ops.revert_artist, actor=outsider, artist_id=public.id, to=public.cid)
        with pytest.raises(Forbidden):
            await write(db, ops.purge_artist, actor=outsider, artist_id=public.id)
    assert await count(db, RecordVersion) == 1
    changed = await write(
        db, ops.update_artist, actor=ADMIN, artist_id=public.id, data=ArtistUpdate(bio="fixed")
    )
    assert changed.n == 2
    assert changed.owner_id == "alice"


async def test_guests_and_read_only_keys_create_nothing(db: Database) -> None:
    for actor in (GUEST, READ_ONLY_KEY):
        with pytest.raises(Forbidden):
            await write(db, ops.create_artist, actor=actor, data=artist())
    assert await count(db, Record) == 0
    mine = await write(db, ops.create_artist, actor=ALICE, data=artist())
    with pytest.raises(Forbidden):
        await write(
            db,
            ops.update_artist,
            actor=READ_ONLY_KEY,
            artist_id=mine.id,
            data=ArtistUpdate(bio="x"),
        )


async def test_lists_show_what_the_actor_may_read_and_mine_only_theirs(db: Database) -> None:
    a_private = await write(db, ops.create_artist, actor=ALICE, data=artist("A1"))
    a_public = await write(db, ops.create_artist, actor=ALICE, data=artist("A2", "public"))
    b_private = await write(db, ops.create_artist, actor=BOB, data=artist("B1"))

    async def ids(actor: Any, **kwargs: Any) -> set[str]:
        return {a.id for a in (await read(db, ops.list_artists, actor=actor, **kwargs)).items}

    assert await ids(ALICE) == {a_private.id, a_public.id}
    assert await ids(BOB) == {a_public.id, b_private.id}
    assert await ids(BOB, mine=True) == {b_private.id}
    assert await ids(GUEST) == {a_public.id}
    assert await ids(MODERATOR) == {a_private.id, a_public.id, b_private.id}


async def test_hiding_needs_a_moderator_with_the_records_write_scope(db: Database) -> None:
    public = await write(db, ops.create_artist, actor=ALICE, data=artist(visibility="public"))
    read_only = Actor(id="mona", role=Role.moderator, scopes=frozenset({"records:read"}))
    for actor in (read_only, BOB, ALICE):
        with pytest.raises(Forbidden):
            await write(
                db,
                ops.update_artist,
                actor=actor,
                artist_id=public.id,
                data=ArtistUpdate(hidden=True),
            )
    hidden = await write(
        db, ops.update_artist, actor=MODERATOR, artist_id=public.id, data=ArtistUpdate(hidden=True)
    )
    assert (hidden.hidden, hidden.cid, hidden.owner_id) == (True, public.cid, "alice")
    assert (await read(db, ops.list_artists, actor=BOB)).items == []
    mine = await read(db, ops.list_artists, actor=ALICE, mine=True)
    assert [(a.id, a.hidden) for a in mine.items] == [(public.id, True)]
    for cid in (public.cid, public.content_cid):
        with pytest.raises(NotFound):
            await read(db, read_block, actor=GUEST, cid=cid)
        assert await read(db, read_block, actor=ALICE, cid=cid)


async def test_unknown_and_malformed_ids_are_not_found(db: Database) -> None:
    mine = await write(db, ops.create_artist, actor=ALICE, data=artist())
    for bad in (
        "nope",
        mine.content_cid,
        "bafkr4ideg6z2yocgkez77nr3outtvdnvjdcvqrs5phnqh7jvtrwnlpm5qu",
    ):
        with pytest.raises(NotFound):
            await read(db, ops.get_artist, actor=ALICE, artist_id=bad)
    with pytest.raises(NotFound):  # an artist is not a still image
        await read(db, ops.get_still_image, actor=ALICE, still_image_id=mine.id)


async def counts(db: Database) -> tuple[int, ...]:
    tables: list[type[SQLModel]] = [Record, RecordVersion, Block, BlobRef]
    return tuple([await count(db, t) for t in tables])


async def test_links_to_records_the_writer_may_not_read_are_refused(db: Database) -> None:
    bobs = await write(db, ops.create_artist, actor=BOB, data=artist("Bob's"))
    alices = await write(db, ops.create_artist, actor=ALICE, data=artist("Alice's"))
    image = await write(db, ops.create_artist, actor=ALICE, data=artist("Not an image file"))
    deleted = await write(db, ops.create_artist, actor=ALICE, data=artist("Gone"))
    await write(db, ops.delete_artist, actor=ALICE, artist_id=deleted.id)
    before = await counts(db)
    body = {
        "title": {"full": "Work"},
        "creators": [
            {"artist": alices.id, "role": "painter"},
            {"artist": bobs.id, "role": "painter"},
            {"artist": deleted.id, "role": "x"},
        ],
        "image_files": [image.id],
    }
    with pytest.raises(Invalid) as refused:
        await write(
            db, ops.create_still_image, actor=ALICE, data=StillImageCreate.model_validate(body)
        )
    errors = refused.value.extra["errors"]
    assert [e["field"] for e in errors] == [
        "creators.1.artist",
        "creators.2.artist",
        "image_files.0",
    ]
    assert "that you may read" in errors[0]["message"]
    assert "was deleted" in errors[1]["message"]
    assert errors[2]["message"] == f"{image.id} is not an image file (it is a mart/artist record)"
    assert refused.value.field == "creators.1.artist"
    assert await counts(db) == before
    # once Bob makes his artist public, Alice may credit it
    await write(
        db, ops.update_artist, actor=BOB, artist_id=bobs.id, data=ArtistUpdate(visibility="public")
    )
    body["creators"] = body["creators"][:2]  # type: ignore[index]
    body["image_files"] = []
    work = await write(
        db, ops.create_still_image, actor=ALICE, data=StillImageCreate.model_validate(body)
    )
    assert [c.artist for c in work.creators] == [alices.id, bobs.id]


async def test_an_update_checks_only_the_links_it_adds(db: Database) -> None:
    bobs = await write(db, ops.create_artist, actor=BOB, data=artist("Bob's", "public"))
    release = await write(
        db,
        ops.create_image_release,
        actor=ALICE,
        data=ImageReleaseCreate.model_validate({"title": {"full": "R"}, "artists": [bobs.id]}),
    )
    await write(
        db, ops.update_artist, actor=BOB, artist_id=bobs.id, data=ArtistUpdate(visibility="private")
    )
    renamed = await write(
        db,
        ops.update_image_release,
        actor=ALICE,
        image_release_id=release.id,
        data=ImageReleaseUpdate.model_validate({"catalogue_number": "MST-2"}),
    )
    assert renamed.artists == [bobs.id]
    other = await write(db, ops.create_artist, actor=BOB, data=artist("Bob's other"))
    with pytest.raises(Invalid) as refused:
        await write(
            db,
            ops.update_image_release,
            actor=ALICE,
            image_release_id=release.id,
            data=ImageReleaseUpdate.model_validate({"artists": [bobs.id, other.id]}),
        )
    assert refused.value.field == "artists.1"


async def test_links_to_files(db: Database, store: LocalBlobStore, settings: Settings) -> None:
    alices_png = await upload(db, store, settings, ALICE, png())
    bobs_png = await upload(db, store, settings, BOB, png(colour=(0, 0, 255)))
    text = await upload(db, store, settings, ALICE, b"just words\n", "notes.txt")
    before = await counts(db)
    for cid, why in (
        (bobs_png.cid, "that you may read"),
        (text.cid, "is text/plain; this field takes image/*"),
        ("bafkr4ifpcne3t5pzugtkaqcn5i3nzskjtpfslsnnyejlpte2spfoihzsmi", "that you may read"),
    ):
        with pytest.raises(Invalid, match=why) as refused:
            await write(db, ops.create_image_file, actor=ALICE, data=ImageFileCreate(file=cid))
        assert refused.value.field == "file"
    assert await counts(db) == before
    made = await write(
        db, ops.create_image_file, actor=ALICE, data=ImageFileCreate(file=alices_png.cid)
    )
    assert made.file == alices_png.cid
    await write(
        db,
        file_ops.update_file,
        actor=BOB,
        file_id=bobs_png.id,
        data=FileUpdate(visibility="public"),
    )
    shared = await write(
        db, ops.create_image_file, actor=ALICE, data=ImageFileCreate(file=bobs_png.cid)
    )
    assert shared.owner_id == "alice"
    await write(db, file_ops.trash_file, actor=ALICE, file_id=alices_png.id)
    with pytest.raises(Invalid, match="that you may read"):
        await write(
            db, ops.create_image_file, actor=ALICE, data=ImageFileCreate(file=alices_png.cid)
        )


async def test_a_blob_is_readable_through_a_record_that_links_it(
    db: Database, store: LocalBlobStore, settings: Settings
) -> None:
    private_png = await upload(db, store, settings, ALICE, png())
    made = await write(
        db, ops.create_image_file, actor=ALICE, data=ImageFileCreate(file=private_png.cid)
    )
    with pytest.raises(NotFound):
        await read(db, file_ops.readable_blob_type, actor=BOB, cid=private_png.cid)
    await write(
        db,
        ops.update_image_file,
        actor=ALICE,
        image_file_id=made.id,
        data=ImageFileUpdate(visibility="public"),
    )
    for reader in (BOB, GUEST):
        found = await read(db, file_ops.readable_blob_type, actor=reader, cid=private_png.cid)
        assert found == "image/png"
    with pytest.raises(NotFound):  # the file record itself stays private
        await read(db, file_ops.get_file, actor=BOB, file_id=private_png.id)
    await write(db, ops.delete_image_file, actor=ALICE, image_file_id=made.id)
    # its history still links the blob, and history stays readable to its readers
    found = await read(db, file_ops.readable_blob_type, actor=BOB, cid=private_png.cid)
    assert found == "image/png"
    await write(db, ops.purge_image_file, actor=ADMIN, image_file_id=made.id)
    with pytest.raises(NotFound):
        await read(db, file_ops.readable_blob_type, actor=BOB, cid=private_png.cid)


async def test_whether_a_blob_is_readable_is_one_query_however_many_records_link_it(
    db: Database, store: LocalBlobStore, settings: Settings
) -> None:
    """The blob-read rule (files, records linking the bytes, their owners' files) is one
    SQL statement: no lookup per file or per record."""
    shared = await upload(db, store, settings, ALICE, png())
    await write(
        db,
        file_ops.update_file,
        actor=ALICE,
        file_id=shared.id,
        data=FileUpdate(visibility="public"),
    )
    authors = [Actor(id=f"author{n}", role=Role.user) for n in range(12)]
    for author in authors:
        await upload(db, store, settings, author, png())  # another file of the same bytes
        for _ in range(2):
            await write(
                db,
                ops.create_image_file,
                actor=author,
                data=ImageFileCreate.model_validate({"file": shared.cid, "visibility": "public"}),
            )
    await write(
        db,
        file_ops.update_file,
        actor=ALICE,
        file_id=shared.id,
        data=FileUpdate(visibility="private"),
    )
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        for reader in (BOB, GUEST, ALICE, MODERATOR):
            statements.clear()
            found = await read(db, file_ops.readable_blob_type, actor=reader, cid=shared.cid)
            assert found == "image/png"
            assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
        statements.clear()
        unknown = "bafkr4ifpcne3t5pzugtkaqcn5i3nzskjtpfslsnnyejlpte2spfoihzsmi"
        with pytest.raises(NotFound):
            await read(db, file_ops.readable_blob_type, actor=BOB, cid=unknown)
        assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", seen)
