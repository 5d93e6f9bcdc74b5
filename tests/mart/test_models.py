"""The art models: golden CIDs of the spec's examples, the schemas' limits, and an image
file's facts read from its file's processing metadata."""

from datetime import UTC, datetime
from typing import Any

import blake3
import dag_cbor
import pytest
from multiformats import CID, multihash
from pydantic import ValidationError

from mart._generated import models, ops
from mart.specs import EXAMPLE_IMAGE_FILE, SPEC
from mcore.cid import record_cid
from mcore.db import Database
from mcore.files.models import File
from mcore.records.encoding import encode
from mcore.records.versions import version_value
from mcore.settings import Settings
from mcore.storage import LocalBlobStore
from tests.recordkit import ALICE, BOB, png, read, upload, write

# Hard-coded: a change to the canonical encoding, to a spec's field names or to an example
# changes these, and must be deliberate.
GOLDEN_CONTENT = {
    ("artist", 0): "bafyr4ihkkh7yjqit5p7f2sddmyphdht5y55tbvemj7ztwj5wkiw2o7p764",
    ("artist", 1): "bafyr4ifilefhe34eto5yfeav6ketjdgl6lfuba55bubbrxscxrc5d7w3j4",
    ("image_file", 0): "bafyr4ieg6kema65lqq7azvpk7v4b5o6qwyzmw3ves7i6um2qzuzyp5mjre",
    ("still_image", 0): "bafyr4ick7rsiikicik4gdnko43olval7ol2tmffptbedw5r5ywjt2nyyna",
    ("image_release", 0): "bafyr4ibr3zbbqrqttdhgrtui3crnpi6zwcjhwhdtugehacbjfgcya4zla4",
}
GOLDEN_VERSIONS = [
    "bafyr4ibwzw5m7eyevs3yodybeidjjl7jefdkd3upv3bezbkxlyhzd6ovuy",
    "bafyr4ifagykykyiqeh4a36kjdymkzthtubxrq6ayzidxrj4elmauy5fzli",
    "bafyr4idn2y62rzs3v3kboy7nrbfq2r5kxfnpxsysk7yjmjh4skjq5zfjf4",
]


def record_type(name: str) -> Any:
    return getattr(ops, name.upper())


def create_schema(name: str) -> Any:
    return getattr(models, record_type(name).read.__name__.removesuffix("Read") + "Create")


def example_content_cid(name: str, index: int) -> str:
    model = next(m for m in SPEC.models if m.name == name)
    data = create_schema(name).model_validate(model.examples[index])
    return record_cid(encode(record_type(name).content_of(data)))


@pytest.mark.parametrize(("name", "index"), GOLDEN_CONTENT)
def test_golden_content_cids_of_the_examples(name: str, index: int) -> None:
    assert example_content_cid(name, index) == GOLDEN_CONTENT[(name, index)]


def test_every_example_has_a_golden_cid() -> None:
    assert {(m.name, i) for m in SPEC.models for i in range(len(m.examples))} == set(GOLDEN_CONTENT)


def test_golden_artist_cid_by_hand_with_dag_cbor_and_blake3() -> None:
    """The same CID made without our encoder: NFC text, no nulls, a link as a CID object."""
    by_hand = {
        "$type": "mart/artist",
        "name": {"full": "Maren Økland", "short": "Økland", "abbreviated": "MØ"},
        "bio": "Painter of coastal light, working in Bergen since 1998.",
        "links": ["https://example.org/artists/maren-okland"],
        "avatar": CID.decode(EXAMPLE_IMAGE_FILE),
    }
    digest = multihash.wrap(blake3.blake3(dag_cbor.encode(by_hand)).digest(), "blake3")
    cid = CID("base32", 1, "dag-cbor", digest)
    assert str(cid) == GOLDEN_CONTENT[("artist", 0)]


def test_golden_version_chain() -> None:
    content = GOLDEN_CONTENT[("artist", 0)]
    first = version_value(
        content_cid=content,
        prev=None,
        by="alice",
        at=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
        n=1,
        nonce=bytes(16),
    )
    second = version_value(
        content_cid=content,
        prev=GOLDEN_VERSIONS[0],
        by="alice",
        at=datetime(2026, 1, 2, 3, 4, 6, tzinfo=UTC),
        n=2,
    )
    deletion = version_value(
        content_cid=None,
        prev=GOLDEN_VERSIONS[1],
        by="alice",
        at=datetime(2026, 1, 2, 3, 4, 7, tzinfo=UTC),
        n=3,
    )
    assert [record_cid(encode(v)) for v in (first, second, deletion)] == GOLDEN_VERSIONS


def test_title_data_is_full_short_abbreviated() -> None:
    image = models.StillImageCreate.model_validate(
        {"title": {"full": "Morning over Nordnes", "short": "Nordnes", "abbreviated": "MoN"}}
    )
    assert image.title.full == "Morning over Nordnes"
    assert set(models.TitleData.model_fields) == {"full", "short", "abbreviated"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": {"full": "x" * 501}}, "title.full"),
        ({"title": {"full": ""}}, "title.full"),
        ({"title": {}}, "title.full"),
        ({"title": {"full": "T"}, "year": 1999.5}, "year"),
        ({"title": {"full": "T"}, "year": "1999"}, "year"),
        ({"title": {"full": "T"}, "year": True}, "year"),
        ({"title": {"full": "T"}, "year": 12000}, "year"),
        ({"title": {"full": "T"}, "tags": ["x"] * 101}, "tags"),
        ({"title": {"full": "T"}, "tags": ["t" * 101]}, "tags.0"),
        (
            {
                "title": {"full": "T"},
                "image_files": ["bafkr4ideg6z2yocgkez77nr3outtvdnvjdcvqrs5phnqh7jvtrwnlpm5qu"],
            },
            "image_files.0",
        ),
        (
            {"title": {"full": "T"}, "creators": [{"artist": "BAFYR4I", "role": "x"}]},
            "creators.0.artist",
        ),
        ({"title": {"full": "T"}, "creators": [{"artist": EXAMPLE_IMAGE_FILE}]}, "creators.0.role"),
    ],
)
def test_schema_limits_name_the_field(body: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        models.StillImageCreate.model_validate(body)
    assert field in {".".join(map(str, e["loc"])) for e in refused.value.errors()}


def test_release_dates_are_calendar_dates() -> None:
    ok = models.ImageReleaseCreate.model_validate(
        {"title": {"full": "R"}, "release_date": "2021-03-14"}
    )
    assert ok.release_date is not None
    for bad in ("2021-02-30", "14/03/2021", "2021-03-14T00:00:00", 1615680000):
        with pytest.raises(ValidationError):
            models.ImageReleaseCreate.model_validate({"title": {"full": "R"}, "release_date": bad})


def test_artist_links_are_web_urls() -> None:
    with pytest.raises(ValidationError):
        models.ArtistCreate.model_validate(
            {"name": {"full": "A"}, "links": ["javascript:alert(1)"]}
        )


async def test_image_file_facts_come_from_the_file_record(
    db: Database, store: LocalBlobStore, settings: Settings
) -> None:
    file = await upload(db, store, settings, ALICE, png(5, 7))
    made = await write(
        db, ops.create_image_file, actor=ALICE, data=models.ImageFileCreate(file=file.cid)
    )
    assert (made.width, made.height, made.format, made.colour_space) == (None, None, None, None)
    # what the image processor writes when it has read the file
    async with db.session(write=True) as session:
        row = await session.get(File, file.id)
        assert row is not None
        row.meta = {"width": 5, "height": 7, "format": "png", "colour_space": "srgb", "x": 1}
        session.add(row)
    after = await read(db, ops.get_image_file, actor=ALICE, image_file_id=made.id)
    assert (after.width, after.height, after.format, after.colour_space) == (5, 7, "png", "srgb")
    assert after.cid == made.cid  # facts about the bytes are not content: no new version
    listed = (await read(db, ops.list_image_files, actor=ALICE)).items
    assert [(i.id, i.width) for i in listed] == [(made.id, 5)]
    # a reader of the record sees the facts even without access to the file row itself
    await write(
        db,
        ops.update_image_file,
        actor=ALICE,
        image_file_id=made.id,
        data=models.ImageFileUpdate(visibility="public"),
    )
    seen = await read(db, ops.get_image_file, actor=BOB, image_file_id=made.id)
    assert seen.width == 5
