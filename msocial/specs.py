"""The social models, declared once. ``python -m codegen`` turns them into
``msocial/_generated/`` (tables, schemas, ops), ``api/_generated/msocial_routes.py``
(routes), the SDK's and the command line's parts, and the seeder's fake values.

Loaded by path by codegen: import nothing here but ``mcore.records.kinds``. The examples
are request bodies; tests hash them into golden CIDs, so changing one changes those.
"""

from mcore.records.kinds import Embedded, Field, FileLink, Link, ListOf, Model, SetOf, Spec, Text

EXAMPLE_PROFILE = "bafyr4ibsrhoak26obwqomtsimxh2ttjp6raff4lt3532zkvjkbka225m3u"
EXAMPLE_POST = "bafyr4ia4cocbdslg2l5w5uqdykcuv5a7x6e34loyjgylyy5ayuv7u7js64"
EXAMPLE_FORUM = "bafyr4iakvw3tzk3eavv2rlgb63jb4vi2n3vqjkdlzlktxp4tq6sde5cupu"
EXAMPLE_FILE = "bafkr4ideg6z2yocgkez77nr3outtvdnvjdcvqrs5phnqh7jvtrwnlpm5qu"

HANDLE = Text(max_length=30)
NAME = Text(max_length=200)
LONG_TEXT = Text(max_length=20_000)
# A widget in seed 001's syntax, such as `art.artists.list(sort="name.full", limit=6)`.
WIDGET = Text(max_length=500)
TAG = Text(max_length=80)  # a forum's tags are paths: "painting/oil"

Member = Embedded(
    "ProfileMember",
    description="One profile's place in a group of profiles.",
    fields=[
        Field("profile", Link("profile"), required=True, description="The member's profile"),
        Field(
            "role",
            Text(max_length=50, choices=("owner", "admin", "member")),
            required=True,
            description="owner, admin or member",
        ),
    ],
)

Block = Embedded(
    "PageBlock",
    description="One block of a page: text, an image, or a widget.",
    fields=[
        Field(
            "kind",
            Text(max_length=20, choices=("text", "image", "widget")),
            required=True,
            description="text, image or widget",
        ),
        Field("text", LONG_TEXT, description="Markdown, for a text block (no raw HTML)"),
        Field("image", FileLink(("image/*",)), description="The image, for an image block"),
        Field("widget", WIDGET, description="The widget expression, for a widget block"),
    ],
)

PROFILE = Model(
    "profile",
    description=(
        "A social profile: a person, a studio, a band. An account may have several; the"
        " handle is unique whatever its case."
    ),
    fields=[
        Field("handle", HANDLE, required=True, description="Unique name, such as maren"),
        Field("display_name", NAME, required=True, description="The name shown"),
        Field("bio", LONG_TEXT, description="About the profile, in Markdown"),
        Field("avatar", FileLink(("image/*",)), description="The profile's picture"),
        Field("banner", FileLink(("image/*",)), description="A wide image above the profile"),
        Field(
            "links",
            ListOf(Text(max_length=2000, url=True), max_items=20),
            description="Web pages of the profile",
        ),
    ],
    search=["handle", "display_name"],
    sort=["handle", "display_name"],
    examples=[
        {
            "handle": "maren",
            "display_name": "Maren Økland",
            "bio": "Painter of coastal light.",
            "avatar": EXAMPLE_FILE,
            "links": ["https://example.org/maren"],
        }
    ],
)

PROFILE_GROUP = Model(
    "profile_group",
    description="A group of profiles with roles: a band, a collective.",
    fields=[
        Field("name", NAME, required=True, description="The group's name"),
        Field("description", LONG_TEXT, description="About the group, in Markdown"),
        Field("members", ListOf(Member, max_items=1000), description="Its profiles and roles"),
    ],
    search=["name", "members.profile"],
    sort=["name"],
    examples=[
        {
            "name": "Harbour Collective",
            "members": [{"profile": EXAMPLE_PROFILE, "role": "owner"}],
        }
    ],
)

POST = Model(
    "post",
    description=(
        "A post by a profile: text in Markdown (rendered safely, no raw HTML), files,"
        " widgets that show live lists, an optional reply and thread."
    ),
    fields=[
        Field("profile", Link("profile"), required=True, description="Who posts it"),
        Field("text", LONG_TEXT, required=True, description="The post, in Markdown"),
        Field(
            "attachments",
            ListOf(FileLink(), max_items=20),
            description="Files shown with the post, by CID",
        ),
        Field(
            "widgets",
            ListOf(WIDGET, max_items=10),
            description="Widget expressions, such as art.artists.list(limit=3)",
        ),
        Field("reply_to", Link("post"), description="The post this one answers"),
        Field("thread", Link("thread"), description="The forum thread it belongs to"),
        Field("tags", SetOf(TAG, max_items=30), description="Keywords"),
    ],
    search=["profile", "reply_to", "thread", "tags"],
    examples=[
        {
            "profile": EXAMPLE_PROFILE,
            "text": "New work from the harbour series.",
            "attachments": [EXAMPLE_FILE],
            "widgets": ['art.still_images.list(tag="harbour", limit=3)'],
            "tags": ["harbour"],
        }
    ],
)

PAGE = Model(
    "page",
    description="A titled long-form page of a profile, made of blocks.",
    fields=[
        Field("profile", Link("profile"), required=True, description="Whose page it is"),
        Field("title", NAME, required=True, description="The page's title"),
        Field("blocks", ListOf(Block, max_items=200), description="Its blocks, in order"),
    ],
    search=["profile", "title"],
    sort=["title"],
    examples=[
        {
            "profile": EXAMPLE_PROFILE,
            "title": "About the studio",
            "blocks": [
                {"kind": "text", "text": "We paint the harbour."},
                {"kind": "widget", "widget": "art.artists.list(limit=6)"},
            ],
        }
    ],
)

FORUM = Model(
    "forum",
    description="A place for discussion, with hierarchical tags (`painting/oil`).",
    fields=[
        Field("name", NAME, required=True, description="The forum's name"),
        Field("description", LONG_TEXT, description="What it is for"),
        Field("tags", SetOf(TAG, max_items=100), description="Tags, as paths"),
    ],
    search=["name", "tags"],
    sort=["name"],
    examples=[{"name": "Techniques", "tags": ["painting", "painting/oil"]}],
)

BRANCH = Model(
    "branch",
    plural="branches",
    description="A line of discussion inside a forum; may be forked from a post.",
    fields=[
        Field("forum", Link("forum"), required=True, description="The forum it is in"),
        Field("name", NAME, required=True, description="The branch's name"),
        Field("forked_from", Link("post"), description="The post it was forked from"),
    ],
    search=["forum", "forked_from"],
    sort=["name"],
    examples=[{"forum": EXAMPLE_FORUM, "name": "Glazes"}],
)

THREAD = Model(
    "thread",
    description="A conversation of posts in a branch; may be forked from a post.",
    fields=[
        Field("branch", Link("branch"), required=True, description="The branch it is in"),
        Field("title", NAME, required=True, description="What it is about"),
        Field("forked_from", Link("post"), description="The post it was forked from"),
    ],
    search=["branch", "forked_from"],
    sort=["title"],
    examples=[{"branch": EXAMPLE_FORUM, "title": "Which white?", "forked_from": EXAMPLE_POST}],
)

SPEC = Spec(
    domain="msocial",
    description="The social domain.",
    models=[PROFILE, PROFILE_GROUP, POST, PAGE, FORUM, BRANCH, THREAD],
)
