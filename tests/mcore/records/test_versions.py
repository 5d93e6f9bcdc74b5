"""The version chain at the op level: blocks, heads, nonces, no-op updates, compare-and-swap,
deletion, revert, history at a time, purge, and the blob references of record links."""

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from mart._generated import ops
from mart._generated.models import (
    ArtistCreate,
    ArtistUpdate,
    ImageFileCreate,
    StillImage,
    StillImageCreate,
    StillImageUpdate,
)
from mcore.cid import record_cid
from mcore.db import Database
from mcore.errors import Forbidden, Gone, Invalid, NotFound, PreconditionFailed
from mcore.files import ops as file_ops
from mcore.maintenance import collect_garbage
from mcore.records.encoding import cid_text, decode, from_micros
from mcore.records.models import Block, Record, RecordTerm, RecordVersion
from mcore.refs import BlobRef
from mcore.settings import Settings
from mcore.storage import LocalBlobStore
from tests.recordkit import ADMIN, ALICE, BOB, count, png, read, rows, upload, write


def artist(name: str = "Maren Økland", **more: Any) -> ArtistCreate:
    return ArtistCreate.model_validate({"name": {"full": name}, **more})


async def block(db: Database, cid: str) -> dict[str, Any]:
    async with db.session() as session:
        found = await session.get(Block, cid)
    assert found is not None
    return decode(found.data)


async def test_create_writes_content_and_first_version_blocks(db: Database) -> None:
    made = await write(db, ops.create_artist, actor=ALICE, data=artist(bio="Painter."))
    assert made.id == made.cid
    assert made.n == 1
    content = await block(db, made.content_cid)
    assert content == {"$type": "mart/artist", "name": {"full": "Maren Økland"}, "bio": "Painter."}
    version = await block(db, made.cid)
    assert set(version) == {"$type", "content", "by", "at", "n", "nonce"}
    assert version["$type"] == "mstack/version"
    assert cid_text(version["content"]) == made.content_cid
    assert version["by"] == "alice"
    assert version["n"] == 1
    assert from_micros(version["at"]) == made.created_at == made.updated_at
    assert isinstance(version["nonce"], bytes)
    assert len(version["nonce"]) == 16


async def test_every_block_rehashes_to_its_cid(db: Database, frozen_clock: Any) -> None:
    a = await write(db, ops.create_artist, actor=ALICE, data=artist())
    frozen_clock.offset += 1
    b = await write(
        db, ops.update_artist, actor=ALICE, artist_id=a.id, data=ArtistUpdate(bio="Later.")
    )
    await write(db, ops.delete_artist, actor=ALICE, artist_id=a.id)
    await write(db, ops.revert_artist, actor=ALICE, artist_id=a.id, to=b.cid)
    blocks = await rows(db, Block)
    assert len(blocks) == 2 + 4  # two contents; four versions
    for stored in blocks:
        assert record_cid(stored.data) == stored.cid


async def test_same_content_same_author_same_instant_gives_two_objects(
    db: Database, frozen_clock: Any
) -> None:
    frozen_clock.frozen = 1_800_000_000.0
    one = await write(db, ops.create_artist, actor=ALICE, data=artist())
    two = await write(db, ops.create_artist, actor=ALICE, data=artist())
    assert one.content_cid == two.content_cid
    assert one.created_at == two.created_at
    assert one.id != two.id
    assert await count(db, Block) == 3  # the shared content block is stored once


async def test_updates_chain_versions_and_a_noop_makes_none(db: Database) -> None:
    a = await write(db, ops.create_artist, actor=ALICE, data=artist())
    b = await write(
        db, ops.update_artist, actor=ALICE, artist_id=a.id, data=ArtistUpdate(bio="One.")
    )
    version = await block(db, b.cid)
    assert cid_text(version["prev"]) == a.cid
    assert version["n"] == 2
    assert "nonce" not in version
    assert b.id == a.id
    assert b.created_at == a.created_at
    assert b.updated_at >= a.updated_at
    before = await count(db, RecordVersion), await count(db, Block)
    same = await write(
        db, ops.update_artist, actor=ALICE, artist_id=a.id, data=ArtistUpdate(bio="One.")
    )
    assert same.cid == b.cid
    assert same.n == 2
    assert (await count(db, RecordVersion), await count(db, Block)) == before


async def test_visibility_is_not_content_and_makes_no_version(db: Database) -> None:
    a = await write(db, ops.create_artist, actor=ALICE, data=artist())
    b = await write(
        db, ops.update_artist, actor=ALICE, artist_id=a.id, data=ArtistUpdate(visibility="public")
    )
    assert b.visibility == "public"
    assert b.cid == a.cid
    assert (await read(db, ops.get_artist, actor=BOB, artist_id=a.id)).id == a.id


async def test_clearing_a_field_and_refusing_to_clear_a_required_one(db: Database) -> None:
    a = await write(db, ops.create_artist, actor=ALICE, data=artist(bio="Here."))
    cleared = await write(
        db, ops.update_artist, actor=ALICE, artist_id=a.id, data=ArtistUpdate(bio=None)
    )
    assert cleared.bio is None
    assert cleared.n == 2
    assert "bio" not in await block(db, cleared.content_cid)
    with pytest.raises(Invalid) as refused:
        await write(
            db, ops.update_artist, actor=ALICE, artist_id=a.id, data=ArtistUpdate(name=None)
        )
    assert refused.value.field == "name"


async def test_if_match_is_compare_and_swap_on_the_head(db: Database) -> None:
    a = await write(db, ops.create_artist, actor=ALICE, data=artist())
    b = await write(
        db,
        ops.update_artist,
        actor=ALICE,
        artist_id=a.id,
        data=ArtistUpdate(bio="B."),
        if_match=[a.cid],
    )
    with pytest.raises(PreconditionFailed) as stale:
        await write(
            db,
            ops.update_artist,
            actor=ALICE,
            artist_id=a.id,
            data=ArtistUpdate(bio="C."),
            if_match=[a.cid],
        )
    assert stale.value.extra["head"] == b.cid
    for op, kwargs in (
        (ops.delete_artist, {}),
        (ops.revert_artist, {"to": a.cid}),
    ):
        with pytest.raises(PreconditionFailed):
            await write(db, op, actor=ALICE, artist_id=a.id, if_match=[a.cid], **kwargs)
    assert (await read(db, ops.get_artist, actor=ALICE, artist_id=a.id)).cid == b.cid


async def test_delete_keeps_history_and_revert_brings_it_back(db: Database) -> None:
    a = await write(db, ops.create_artist, actor=ALICE, data=artist(bio="First."))
    b = await write(
        db, ops.update_artist, actor=ALICE, artist_id=a.id, data=ArtistUpdate(bio="Second.")
    )
    gone = await write(db, ops.delete_artist, actor=ALICE, artist_id=a.id)
    assert gone.deleted
    assert gone.n == 3
    assert gone.content_cid is None
    tombstone = await block(db, gone.cid)
    assert tombstone["deleted"] is True
    assert "content" not in tombstone
    with pytest.raises(Gone):
        await read(db, ops.get_artist, actor=ALICE, artist_id=a.id)
    with pytest.raises(Gone):
        await write(db, ops.delete_artist, actor=ALICE, artist_id=a.id)
    with pytest.raises(Gone):
        await write(db, ops.update_artist, actor=ALICE, artist_id=a.id, data=ArtistUpdate(bio="x"))
    assert (await read(db, ops.list_artists, actor=ALICE)).items == []
    history = await read(db, ops.artist_versions, actor=ALICE, artist_id=a.id)
    assert [v.n for v in history.items] == [3, 2, 1]
    old = await read(db, ops.get_artist_version, actor=ALICE, artist_id=a.id, version_cid=a.cid)
    assert old.bio == "First."
    assert old.cid == a.cid
    assert old.n == 1
    with pytest.raises(Invalid) as deletion:
        await write(db, ops.revert_artist, actor=ALICE, artist_id=a.id, to=gone.cid)
    assert deletion.value.field == "to"
    back = await write(db, ops.revert_artist, actor=ALICE, artist_id=a.id, to=a.cid)
    assert back.n == 4
    assert back.bio == "First."
    assert back.content_cid == a.content_cid
    assert [x.id for x in (await read(db, ops.list_artists, actor=ALICE)).items] == [a.id]
    again = await write(db, ops.revert_artist, actor=ALICE, artist_id=a.id, to=a.cid)
    assert again.n == 4  # already that content: no version
    assert b.content_cid != back.content_cid


async def test_revert_refuses_a_version_of_another_object(db: Database) -> None:
    a = await write(db, ops.create_artist, actor=ALICE, data=artist())
    other = await write(db, ops.create_artist, actor=ALICE, data=artist("Other"))
    with pytest.raises(Invalid) as refused:
        await write(db, ops.revert_artist, actor=ALICE, artist_id=a.id, to=other.cid)
    assert refused.value.field == "to"


async def test_head_at_a_time(db: Database, frozen_clock: Any) -> None:
    frozen_clock.frozen = 1_800_000_000.0
    a = await write(db, ops.create_artist, actor=ALICE, data=artist(bio="One."))
    frozen_clock.frozen += 60
    b = await write(
        db, ops.update_artist, actor=ALICE, artist_id=a.id, data=ArtistUpdate(bio="Two.")
    )
    frozen_clock.frozen += 60
    await write(db, ops.delete_artist, actor=ALICE, artist_id=a.id)

    async def at(seconds: float) -> Any:
        return await read(
            db,
            ops.get_artist,
            actor=ALICE,
            artist_id=a.id,
            at=a.created_at + timedelta(seconds=seconds),
        )

    with pytest.raises(NotFound, match="did not exist yet"):
        await at(-1)
    assert (await at(0)).bio == "One."
    assert (await at(59)).cid == a.cid
    assert (await at(60)).cid == b.cid
    with pytest.raises(Gone):
        await at(120)
    with pytest.raises(Invalid) as naive:
        await read(
            db, ops.get_artist, actor=ALICE, artist_id=a.id, at=a.created_at.replace(tzinfo=None)
        )
    assert naive.value.field == "at"


async def test_purge_removes_only_blocks_no_other_object_holds(db: Database) -> None:
    keep = await write(db, ops.create_artist, actor=ALICE, data=artist("Shared"))
    doomed = await write(db, ops.create_artist, actor=ALICE, data=artist("Shared"))
    await write(
        db, ops.update_artist, actor=ALICE, artist_id=doomed.id, data=ArtistUpdate(bio="Own.")
    )
    with pytest.raises(Forbidden):
        await write(db, ops.purge_artist, actor=ALICE, artist_id=doomed.id)
    removed = await write(db, ops.purge_artist, actor=ADMIN, artist_id=doomed.id)
    assert len(removed) == 3  # its own content block and its two versions
    assert keep.content_cid not in removed
    left = {b.cid for b in await rows(db, Block)}
    assert left == {keep.cid, keep.content_cid}
    assert [r.id for r in await rows(db, Record)] == [keep.id]
    with pytest.raises(NotFound):
        await read(db, ops.artist_versions, actor=ADMIN, artist_id=doomed.id)


async def test_purge_cascades_to_the_projection_and_terms(db: Database) -> None:
    painter = await write(db, ops.create_artist, actor=ALICE, data=artist())
    work = await write(
        db,
        ops.create_still_image,
        actor=ALICE,
        data=StillImageCreate.model_validate(
            {
                "title": {"full": "Harbour"},
                "creators": [{"artist": painter.id, "role": "painter"}],
                "tags": ["sea"],
            }
        ),
    )
    assert await count(db, StillImage) == 1
    assert await count(db, RecordTerm) == 2
    await write(db, ops.purge_still_image, actor=ADMIN, still_image_id=work.id)
    assert await count(db, StillImage) == 0
    assert await count(db, RecordTerm) == 0


async def test_record_links_keep_their_blobs_from_gc_until_purged(
    db: Database, store: LocalBlobStore, settings: Settings, frozen_clock: Any
) -> None:
    file = await upload(db, store, settings, ALICE, png())
    made = await write(
        db, ops.create_image_file, actor=ALICE, data=ImageFileCreate(file=file.cid, caption="c")
    )
    async with db.session() as session:
        refs = (await session.exec(select(BlobRef).where(col(BlobRef.kind) == "record"))).all()
    assert [(r.cid, r.ref_id) for r in refs] == [(file.cid, made.content_cid)]
    # the file record goes (trashed, then purged with the trash); the record still links it
    await write(db, file_ops.trash_file, actor=ALICE, file_id=file.id)
    frozen_clock.offset += (
        settings.trash_retention + settings.gc_grace_period
    ).total_seconds() + 60
    report = await collect_garbage(db, store, settings)
    assert report.purged_files == [file.id]
    assert await store.exists(file.cid)
    await write(db, ops.purge_image_file, actor=ADMIN, image_file_id=made.id)
    report = await collect_garbage(db, store, settings)
    assert report.removed_blobs == [file.cid]
    assert not await store.exists(file.cid)


async def test_terms_follow_the_head(db: Database) -> None:
    painter = await write(db, ops.create_artist, actor=ALICE, data=artist())
    work = await write(
        db,
        ops.create_still_image,
        actor=ALICE,
        data=StillImageCreate.model_validate({"title": {"full": "W"}, "tags": ["a", "b"]}),
    )
    await write(
        db,
        ops.update_still_image,
        actor=ALICE,
        still_image_id=work.id,
        data=StillImageUpdate.model_validate(
            {"tags": ["b", "c"], "creators": [{"artist": painter.id, "role": "painter"}]}
        ),
    )
    terms = sorted((t.field, t.value) for t in await rows(db, RecordTerm))
    assert terms == [("creators.artist", painter.id), ("tags", "b"), ("tags", "c")]
    await write(db, ops.delete_still_image, actor=ALICE, still_image_id=work.id)
    assert await count(db, RecordTerm) == 0
