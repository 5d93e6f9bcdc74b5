"""The art models, declared once. ``python -m codegen`` turns them into ``mart/_generated/``
(tables, schemas, ops) and ``api/_generated/mart_routes.py`` (routes).

Loaded by path by codegen: import nothing here but ``mcore.records.kinds``. The examples
are request bodies; tests hash them into golden CIDs, so changing one changes those.
"""

from datetime import date

from mcore.records.kinds import (
    Computed,
    Embedded,
    Field,
    FileLink,
    Integer,
    Link,
    ListOf,
    Model,
    SetOf,
    Spec,
    Text,
)

# Fixed ids and CIDs the examples link to (any canonical CIDs do).
EXAMPLE_ARTIST = "bafyr4ibsrhoak26obwqomtsimxh2ttjp6raff4lt3532zkvjkbka225m3u"
EXAMPLE_IMAGE_FILE = "bafyr4iakvw3tzk3eavv2rlgb63jb4vi2n3vqjkdlzlktxp4tq6sde5cupu"
EXAMPLE_STILL_IMAGE = "bafyr4ia4cocbdslg2l5w5uqdykcuv5a7x6e34loyjgylyy5ayuv7u7js64"
EXAMPLE_FILE = "bafkr4ideg6z2yocgkez77nr3outtvdnvjdcvqrs5phnqh7jvtrwnlpm5qu"

LICENCE = Text(max_length=200)
LONG_TEXT = Text(max_length=20_000)

TitleData = Embedded(
    "TitleData",
    description=(
        "A title in three lengths: full, short (for lists) and abbreviated (for tight spaces)."
    ),
    fields=[
        Field("full", Text(max_length=500), required=True, description="The whole title"),
        Field("short", Text(max_length=200), description="A shorter form for lists and cards"),
        Field("abbreviated", Text(max_length=50), description="An abbreviation or sort code"),
    ],
)

Creator = Embedded(
    "Creator",
    description="One artist's part in a work.",
    fields=[
        Field("artist", Link("artist"), required=True, description="The artist's id"),
        Field(
            "role",
            Text(max_length=100),
            required=True,
            description="What they did, such as painter or photographer",
        ),
    ],
)

ARTIST = Model(
    "artist",
    description="A person or collective who makes art.",
    fields=[
        Field("name", TitleData, required=True, description="The artist's name"),
        Field("bio", LONG_TEXT, description="A short biography"),
        Field(
            "links",
            ListOf(Text(max_length=2000, url=True), max_items=50),
            description="Web pages about the artist",
        ),
        Field("avatar", Link("image_file"), description="An image file showing the artist"),
        Field(
            "profile",
            Link("msocial.profile"),
            description="The artist's social profile (msocial), by its id",
        ),
    ],
    search=["name.full", "name.short", "profile"],
    sort=["name.full"],
    examples=[
        {
            "name": {"full": "Maren Økland", "short": "Økland", "abbreviated": "MØ"},
            "bio": "Painter of coastal light, working in Bergen since 1998.",
            "links": ["https://example.org/artists/maren-okland"],
            "avatar": EXAMPLE_IMAGE_FILE,
        },
        {"name": {"full": "Studio Kallio"}},
    ],
)

IMAGE_FILE = Model(
    "image_file",
    description=(
        "One uploaded image, by the CID of its bytes, with the words that go with it. Its"
        " size, format and colour space come from the file's processing, not from content."
    ),
    fields=[
        Field("file", FileLink(("image/*",)), required=True, description="The image's file CID"),
        Field("caption", Text(max_length=2000), description="What the image shows"),
        Field("alt", Text(max_length=2000), description="Alternative text for screen readers"),
        Field("credits", Text(max_length=2000), description="Who made or owns the image"),
    ],
    computed=[
        Computed(
            "width",
            Integer(),
            description="Width in pixels as shown (after its EXIF orientation), once processed",
        ),
        Computed(
            "height",
            Integer(),
            description="Height in pixels as shown (after its EXIF orientation), once processed",
        ),
        Computed("format", Text(), description="Image format (jpeg, png, ...), once processed"),
        Computed("colour_space", Text(), description="Colour space (srgb, ...), once processed"),
    ],
    search=["file", "caption"],
    examples=[
        {
            "file": EXAMPLE_FILE,
            "caption": "Morning over Nordnes, oil on board",
            "alt": "A pale yellow sky above dark roofs and a grey sea",
            "credits": "Photo: Studio Kallio",
        }
    ],
)

STILL_IMAGE = Model(
    "still_image",
    description="A still work of art (a painting, a photograph, a print) and its images.",
    fields=[
        Field("title", TitleData, required=True, description="The work's title"),
        Field("description", LONG_TEXT, description="About the work"),
        Field(
            "creators",
            ListOf(Creator, max_items=100),
            description="The artists who made it, each with a role, in credit order",
        ),
        Field(
            "image_files",
            ListOf(Link("image_file"), max_items=100),
            description="Images of the work, the main one first",
        ),
        Field("year", Integer(ge=-10_000, le=9_999), description="Year it was made"),
        Field("medium", Text(max_length=200), description="Materials, such as oil on canvas"),
        Field("tags", SetOf(Text(max_length=80), max_items=100), description="Keywords"),
        Field("licence", LICENCE, description="Licence, such as CC-BY-4.0"),
    ],
    search=["title.full", "creators.artist", "image_files", "tags", "year", "medium", "licence"],
    sort=["title.full", "year"],
    examples=[
        {
            "title": {"full": "Morning over Nordnes", "short": "Nordnes"},
            "description": "Painted over one winter from the same window.",
            "creators": [{"artist": EXAMPLE_ARTIST, "role": "painter"}],
            "image_files": [EXAMPLE_IMAGE_FILE],
            "year": 2019,
            "medium": "oil on board",
            "tags": ["harbour", "dawn", "bergen"],
            "licence": "CC-BY-4.0",
        }
    ],
)

IMAGE_RELEASE = Model(
    "image_release",
    description="A published set of still images in order, such as a portfolio or a book.",
    fields=[
        Field("title", TitleData, required=True, description="The release's title"),
        Field(
            "artists",
            ListOf(Link("artist"), max_items=100),
            description="The artists credited on the release, in order",
        ),
        Field(
            "still_images",
            ListOf(Link("still_image"), max_items=1000),
            description="The still images, in release order",
        ),
        Field("cover_image", Link("image_file"), description="The image file on its cover"),
        Field("release_date", date, description="The day it was released"),
        Field("description", LONG_TEXT, description="About the release"),
        Field("licence", LICENCE, description="Licence, such as CC-BY-4.0"),
        Field("catalogue_number", Text(max_length=100), description="Catalogue number"),
    ],
    search=["title.full", "artists", "still_images", "catalogue_number", "release_date"],
    sort=["title.full", "release_date", "catalogue_number"],
    examples=[
        {
            "title": {"full": "Harbour Light: Paintings 2015-2020", "short": "Harbour Light"},
            "artists": [EXAMPLE_ARTIST],
            "still_images": [EXAMPLE_STILL_IMAGE],
            "cover_image": EXAMPLE_IMAGE_FILE,
            "release_date": "2021-03-14",
            "description": "Twelve paintings of Bergen's harbour.",
            "licence": "CC-BY-4.0",
            "catalogue_number": "MST-0001",
        }
    ],
)

SPEC = Spec(
    domain="mart",
    description="The art domain.",
    models=[ARTIST, IMAGE_FILE, STILL_IMAGE, IMAGE_RELEASE],
)
