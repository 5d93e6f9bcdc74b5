"""The generated per-model SDK classes against the real server: create, read (now, at a
time, one version), list page by page, update with If-Match, delete, history, revert."""

from __future__ import annotations

import asyncio
import io
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from mstack_client import (
    AsyncClient,
    Client,
    Forbidden,
    Gone,
    NotFound,
    PreconditionFailed,
    Tokens,
)
from mstack_client._generated.sdk.mart import (
    Artist,
    Creator,
    ImageFile,
    ImageRelease,
    StillImage,
    TitleData,
)
from mstack_client.errors import Invalid
from mstack_client.records import UNSET, Version
from tests.client.conftest import tokens
from tests.conftest import LiveServer


def png_bytes() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 10, 10)).save(out, format="PNG")
    return out.getvalue()


def test_an_artist_through_its_whole_life(sdk: Client, frozen_clock: Any) -> None:
    created = sdk.artists.create(
        name=TitleData(full="Maren Økland", short="Økland"),
        bio="Painter of coastal light.",
        links=["https://example.org/maren"],
    )
    assert isinstance(created, Artist)
    assert created.n == 1
    assert created.name == TitleData(full="Maren Økland", short="Økland")
    assert created.links == ["https://example.org/maren"]
    assert created.visibility == "private"
    assert created.id == created.cid  # the first version's CID is the stable id
    born = created.updated_at

    frozen_clock.offset += 60
    renamed = sdk.artists.update(created, name={"full": "Maren Økland", "short": "M. Økland"})
    assert (renamed.id, renamed.n) == (created.id, 2)
    assert renamed.name.short == "M. Økland"
    assert renamed.bio == "Painter of coastal light."  # untouched fields stay

    with pytest.raises(PreconditionFailed) as stale:
        sdk.artists.update(created, bio="from a stale read")  # If-Match: version 1
    assert stale.value.status == 412
    assert sdk.artists.get(created.id).n == 2  # nothing changed

    frozen_clock.offset += 60
    cleared = sdk.artists.update(created.id, if_match=renamed.cid, bio=None, links=UNSET)
    assert cleared.bio is None
    assert cleared.links == ["https://example.org/maren"]

    then = sdk.artists.get(created.id, at=born + timedelta(seconds=30))
    assert (then.n, then.name.short) == (1, "Økland")
    assert sdk.artists.version(created.id, renamed.cid).name.short == "M. Økland"
    with pytest.raises(ValueError, match="time zone"):
        sdk.artists.get(created.id, at=datetime(2026, 1, 1))

    reverted = sdk.artists.revert(cleared, created.cid)
    assert reverted.n == 4
    assert reverted.name == created.name
    assert reverted.bio == created.bio
    assert reverted.content_cid == created.content_cid  # same content, same CID

    history = list(sdk.artists.versions(created.id, page_size=2))
    assert [v.n for v in history] == [4, 3, 2, 1]
    assert all(isinstance(v, Version) and not v.deleted for v in history)
    assert history[-1].cid == created.cid

    gone = sdk.artists.delete(reverted)
    assert gone.deleted
    assert gone.n == 5
    with pytest.raises(Gone, match="reverting to one brings it back"):
        sdk.artists.get(created.id)
    with pytest.raises(NotFound):
        sdk.artists.get("bafyr4ibsrhoak26obwqomtsimxh2ttjp6raff4lt3532zkvjkbka225m3u")
    assert sdk.artists.versions_page(created.id, limit=1).items[0].deleted


def test_lists_filter_sort_and_iterate_pages(sdk: Client) -> None:
    for name in ("Cecilie", "Anna", "Bjørn", "Anders", "Beate"):
        sdk.artists.create(name={"full": name})
    names = [a.name.full for a in sdk.artists.list(sort="name_full", page_size=2)]
    assert names == ["Anders", "Anna", "Beate", "Bjørn", "Cecilie"]
    page = sdk.artists.page(limit=2, sort="-name_full")
    assert [a.name.full for a in page] == ["Cecilie", "Bjørn"]
    assert page.next is not None
    assert [a.name.full for a in sdk.artists.list(name_full="an", sort="name_full")] == [
        "Anders",
        "Anna",
    ]


def test_records_with_lists_dates_links_and_files(sdk: Client) -> None:
    upload = sdk.upload(io.BytesIO(png_bytes()), filename="red.png")
    image = sdk.image_files.create(file=upload.cid, caption="A red square", alt="red")
    assert isinstance(image, ImageFile)
    assert image.file == upload.cid
    assert image.width is None  # computed, filled once processed
    artist = sdk.artists.create(name=TitleData(full="Studio Kallio"))
    work = sdk.still_images.create(
        title=TitleData(full="Red"),
        creators=[
            Creator(artist=artist.id, role="painter"),
            {"artist": artist.id, "role": "framer"},
        ],
        image_files=[image.id],
        year=2019,
        tags={"red", "square", "art"},
    )
    assert isinstance(work, StillImage)
    assert work.creators == [
        Creator(artist=artist.id, role="painter"),
        Creator(artist=artist.id, role="framer"),
    ]
    assert work.tags == ["art", "red", "square"]  # a set: sorted
    assert (work.year, work.image_files) == (2019, [image.id])
    assert [w.id for w in sdk.still_images.list(creators_artist=artist.id)] == [work.id]
    assert list(sdk.still_images.list(year=2020)) == []

    release = sdk.image_releases.create(
        title={"full": "Reds"},
        artists=[artist.id],
        still_images=[work.id],
        cover_image=image.id,
        release_date=date(2021, 3, 14),
        visibility="public",
    )
    assert isinstance(release, ImageRelease)
    assert release.release_date == date(2021, 3, 14)
    assert release.visibility == "public"
    found = list(sdk.image_releases.list(release_date=date(2021, 3, 14)))
    assert [r.id for r in found] == [release.id]


def test_the_server_refuses_bad_content_with_field_errors(sdk: Client) -> None:
    with pytest.raises(Invalid) as bad:
        sdk.still_images.create(title={"full": "x"}, year=99_999)
    assert bad.value.status == 422
    assert any(e.get("field") and "year" in e["field"] for e in bad.value.errors), bad.value.errors
    with pytest.raises(Invalid):
        sdk.artists.create(name={"full": "x"}, avatar="not-a-record-id")


async def test_the_async_classes_do_the_same(live_server: LiveServer, frozen_clock: Any) -> None:
    async with AsyncClient(live_server.url, tokens=tokens(live_server)) as client:
        created = await client.artists.create(name={"full": "Async Artist"})
        frozen_clock.offset += 5
        updated = await client.artists.update(created, bio="written by a task")
        assert updated.n == 2
        with pytest.raises(PreconditionFailed):
            await client.artists.delete(created)
        assert [a.id async for a in client.artists.list()] == [created.id]
        assert [v.n async for v in client.artists.versions(created)] == [2, 1]
        old = await client.artists.get(created.id, at=created.updated_at + timedelta(seconds=1))
        assert old.bio is None
        assert (await client.artists.delete(updated)).deleted


def test_a_moderator_hides_and_shows_a_record(live_server: LiveServer, sdk: Client) -> None:
    made = sdk.artists.create(name={"full": "In plain sight"}, visibility="public")
    assert made.hidden is False
    with pytest.raises(Forbidden):
        sdk.artists.update(made, hidden=True)  # owners do not moderate
    live_server.sign_in("moderator", username="mod")
    with Client(live_server.url, tokens=Tokens(live_server.token)) as moderator:
        hidden = moderator.artists.update(made, hidden=True)  # If-Match: version 1
    assert (hidden.hidden, hidden.cid, hidden.n) == (True, made.cid, 1)
    with Client(live_server.url) as guest:
        with pytest.raises(NotFound):
            guest.artists.get(made.id)
        assert list(guest.artists.list()) == []
    assert sdk.artists.get(made.id).hidden is True  # its owner still sees it

    async def show() -> Artist:
        async with AsyncClient(live_server.url, tokens=Tokens(live_server.token)) as moderator:
            return await moderator.artists.update(made.id, hidden=False)

    shown = asyncio.run(show())
    assert shown.hidden is False
    with Client(live_server.url) as guest:
        assert guest.artists.get(made.id) == shown


def test_generated_classes_match_between_sync_and_async() -> None:
    import inspect

    from mstack_client._generated.sdk import mart as mart_sdk

    for name in ("Artists", "ImageFiles", "StillImages", "ImageReleases"):
        sync_cls, async_cls = getattr(mart_sdk, name), getattr(mart_sdk, f"Async{name}")
        for method, fn in inspect.getmembers(sync_cls, inspect.isfunction):
            other = getattr(async_cls, method)
            assert list(inspect.signature(fn).parameters) == list(
                inspect.signature(other).parameters
            ), (name, method)
