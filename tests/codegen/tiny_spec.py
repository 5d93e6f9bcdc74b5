"""A small spec for the generator's own tests: one model with every kind of field."""

from datetime import date

from mcore.records.kinds import (
    Boolean,
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

Byline = Embedded(
    "Byline",
    description="Who wrote a note.",
    fields=[
        Field("name", Text(max_length=80), required=True),
        Field("note", Link("note"), description="Another note about them"),
    ],
)

NOTE = Model(
    "note",
    description="A short note.",
    fields=[
        Field("title", Text(max_length=100), required=True, description="What it is about"),
        Field("body", Text(max_length=2000)),
        Field("mood", Text(max_length=10, choices=("calm", "loud"))),
        Field("tags", SetOf(Text(max_length=30), max_items=10)),
        Field("score", Integer(ge=0, le=10)),
        Field("day", date),
        Field("pinned", Boolean()),
        Field("attachment", FileLink()),
        Field("related", ListOf(Link("note"), max_items=5)),
        Field("bylines", ListOf(Byline, max_items=3)),
    ],
    search=["title", "tags", "related", "bylines.name", "pinned", "day", "mood"],
    sort=["title", "score"],
    examples=[{"title": "First", "tags": ["a"], "score": 3, "day": "2026-01-31"}],
)

SPEC = Spec(domain="tiny", description="Notes.", models=[NOTE])
