"""What the demo profile makes, as plain data: a pure function of the seed.

Records refer to each other by keys here (``file:<CID>`` for an image file, an artist's
full name, a work's or release's full title);
the seeder turns keys into ids as it creates them. Each record's key is also how a second
run finds it again (among its owner's records), so running twice adds nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from mstack_client.cid import file_cid
from seeder.media import Medium, demo_media

__all__ = ["OWNERS", "DemoPlan", "FilePlan", "RecordPlan", "demo_plan"]

# the accounts that own what the demo makes (seeder.accounts.DEMO_ACCOUNTS)
OWNERS = ("demo-alice", "demo-bob", "demo-admin")

_FIRST = ["Maren", "Tove", "Ilse", "Oskar", "Jonas", "Signe", "Ebba", "Halvor", "Runa", "Aksel"]
_LAST = ["Økland", "Berg", "Lindqvist", "Haugen", "Strand", "Dahl", "Nyberg", "Vik", "Moe"]
_STUDIO = ["Studio", "Atelier", "Collective", "Workshop"]
_PLACES = ["Nordnes", "Bryggen", "Sandviken", "Fløyen", "Laksevåg", "Møhlenpris", "Solheim"]
_THINGS = ["light", "rain", "boats", "roofs", "gulls", "fog", "stairs", "nets", "windows"]
_TIMES = ["morning", "evening", "winter", "low tide", "first snow", "midsummer"]
_TAGS = [
    "harbour",
    "dawn",
    "portrait",
    "abstract",
    "coast",
    "city",
    "night",
    "colour",
    "study",
    "landscape",
    "interior",
    "series",
]
_MEDIA = [
    "oil on board",
    "acrylic on canvas",
    "gelatin silver print",
    "watercolour on paper",
    "digital photograph",
    "linocut",
    "charcoal on paper",
]
_ROLES = ["painter", "photographer", "printmaker", "draughtsman"]
_LICENCES = ["CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0", "All rights reserved"]


@dataclass(frozen=True)
class FilePlan:
    """An upload: which account makes it and whether others may see it."""

    medium: Medium
    owner: str
    public: bool


@dataclass
class RecordPlan:
    """A record: its model, key, owner, first content and the edits that follow it.

    Values in ``content`` and ``edits`` may hold references: ``("image_file", key)``,
    ``("artist", key)``, ``("still_image", key)`` become that record's id, and
    ``("file", name)`` the CID of that upload.
    """

    model: str
    key: str
    owner: str
    public: bool
    content: dict[str, Any]
    edits: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class DemoPlan:
    files: list[FilePlan]
    records: list[RecordPlan]  # in the order they can be made (what they link comes first)


def _artist_name(rng: random.Random, n: int) -> dict[str, str]:
    if n % 3 == 2:
        full = f"{rng.choice(_STUDIO)} {rng.choice(_PLACES)}"
        return {"full": full, "short": full.split()[1]}
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    return {"full": f"{first} {last}", "short": last, "abbreviated": f"{first[0]}{last[0]}"}


def demo_plan(seed: int = 0) -> DemoPlan:
    """The demo profile for ``seed``: the same plan every time."""
    rng = random.Random(f"demo:{seed}")
    files = []
    for n, medium in enumerate(demo_media(seed)):
        owner = OWNERS[n % 3] if medium.kind == "image" else OWNERS[n % 2]
        files.append(FilePlan(medium, owner, public=medium.kind != "refused" and n % 4 != 3))
    images = [f for f in files if f.medium.kind == "image"]
    # an image file is found again by the CID of its file
    key = {f.medium.name: f"file:{file_cid(f.medium.data)}" for f in images}
    records: list[RecordPlan] = []

    for f in images:
        m = f.medium
        records.append(
            RecordPlan(
                "image_file",
                key[m.name],
                f.owner,
                f.public,
                {
                    "file": ("file", m.name),
                    "caption": m.caption,
                    "alt": f"A {m.caption.split(',')[0].lower()} picture of shapes on a gradient",
                    "credits": f"Drawn by the mstack seeder (seed {seed})",
                },
            )
        )

    artists: dict[str, list[str]] = {owner: [] for owner in OWNERS}
    used: set[str] = set()
    for n in range(6):
        owner = OWNERS[n % 3]
        name = _artist_name(rng, n)
        while name["full"] in used:
            name = _artist_name(rng, n)
        used.add(name["full"])
        own_images = [f.medium.name for f in images if f.owner == owner]
        place = rng.choice(_PLACES)
        bio = f"Works in {place}, mostly on {rng.choice(_THINGS)} and {rng.choice(_THINGS)}."
        slug = name["full"].lower().replace(" ", "-").replace("ø", "o")
        plan = RecordPlan(
            "artist",
            name["full"],
            owner,
            n != 5,
            {
                "name": name,
                "bio": bio,
                "links": [f"https://example.org/artists/{slug}"],
                "avatar": ("image_file", key[own_images[n // 3]]),
            },
        )
        if n < 2:  # a biography rewritten twice: history to show
            plan.edits = [
                {"bio": f"{bio} Shown at the {place} Kunsthall in {2015 + n}."},
                {"bio": f"{bio} Shown at the {place} Kunsthall in {2015 + n} and {2019 + n}."},
            ]
        artists[owner].append(name["full"])
        records.append(plan)

    stills: dict[str, list[str]] = {owner: [] for owner in OWNERS}
    titles: set[str] = set()
    for n in range(12):
        owner = OWNERS[n % 3]
        own = [f for f in images if f.owner == owner]
        first = own[(n // 3) % len(own)]
        second = own[(n // 3 + 4) % len(own)]
        title = f"{rng.choice(_THINGS).capitalize()} over {rng.choice(_PLACES)}"
        while title in titles:
            title = f"{title.split(',')[0]}, {rng.choice(_TIMES)}"
        titles.add(title)
        creators = [{"artist": ("artist", artists[owner][n % 2]), "role": rng.choice(_ROLES)}]
        if n % 4 == 0:
            creators.append({"artist": ("artist", artists[owner][1 - n % 2]), "role": "assistant"})
        tags = sorted(rng.sample(_TAGS, 3))
        plan = RecordPlan(
            "still_image",
            title,
            owner,
            first.public,
            {
                "title": {"full": title, "short": title.split(" over ")[0]},
                "description": f"Made over one {rng.choice(_TIMES)} from the same window.",
                "creators": creators,
                "image_files": [("image_file", key[first.medium.name])]
                + ([("image_file", key[second.medium.name])] if n % 2 == 0 else []),
                "year": 1990 + rng.randrange(35),
                "medium": rng.choice(_MEDIA),
                "tags": tags,
                "licence": rng.choice(_LICENCES),
            },
        )
        if n < 4:  # a tag added, then the year corrected
            extra = sorted([*tags, rng.choice([t for t in _TAGS if t not in tags])])
            plan.edits = [{"tags": extra}, {"year": plan.content["year"] + 1 + rng.randrange(3)}]
        stills[owner].append(title)
        records.append(plan)

    for n, owner in enumerate(OWNERS):
        title = f"{rng.choice(_PLACES)} {rng.choice(_THINGS)}: works {2010 + n}-{2020 + n}"
        cover = next(r for r in records if r.model == "still_image" and r.key == stills[owner][0])
        plan = RecordPlan(
            "image_release",
            title,
            owner,
            owner != "demo-admin",
            {
                "title": {"full": title, "short": title.split(":")[0]},
                "artists": [("artist", a) for a in artists[owner]],
                "still_images": [("still_image", s) for s in reversed(stills[owner])],
                "cover_image": cover.content["image_files"][0],
                "release_date": date(2021 + n, 1 + rng.randrange(12), 1 + rng.randrange(28)),
                "description": f"{len(stills[owner])} works in the order they were made.",
                "licence": "CC-BY-4.0",
                "catalogue_number": f"MST-{seed:02d}{n + 1:02d}",
            },
        )
        if n == 0:
            plan.edits = [{"description": f"{len(stills[owner])} works, newest first."}]
        records.append(plan)
    return DemoPlan(files, records)
