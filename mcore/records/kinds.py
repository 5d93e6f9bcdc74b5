"""The spec language: the declarations a domain's ``specs.py`` builds its record models from.

A spec only declares; ``python -m codegen`` loads it by path, checks it (collecting every
problem at once, each naming its model and field) and renders it. What each kind of field
becomes (its checks, columns, schemas, SDK types, command-line options) is in
``codegen/kinds/``, one class per kind. Kinds the canonical encoding forbids, such as
``float``, are refused there, long before anything is hashed.

A model in brief (see ``mart/specs.py`` for the art models)::

    NOTE = Model(
        "note",                                   # snake_case: class Note, /api/v1/notes
        fields=[
            Field("title", Text(max_length=100), required=True),
            Field("tags", SetOf(Text(max_length=30), max_items=10)),   # sorted, unique
            Field("day", date),                                       # "YYYY-MM-DD"
            Field("image", FileLink(("image/*",))),                   # a file by CID
            Field("related", ListOf(Link("note"), max_items=5)),      # records by id
            Field("profile", Link("msocial.profile")),                # another domain's
        ],
        search=["title", "tags"],  # query parameters title= and tags= on the list route
        sort=["title"],            # sort=title, sort=-title (plus created_at, updated_at)
        examples=[{"title": "First"}],            # checked by codegen; hashed by golden tests
    )
    SPEC = Spec(domain="tiny", models=[NOTE])

Adding or changing a model: edit the spec, run ``python -m codegen``, then make the
migration with ``alembic revision --autogenerate`` against an upgraded database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Boolean",
    "Computed",
    "Date",
    "Embedded",
    "Field",
    "FileLink",
    "Integer",
    "Link",
    "ListOf",
    "Model",
    "SetOf",
    "Spec",
    "Text",
]

# -- kinds ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """Unicode text (stored NFC). ``max_length`` is required for content fields."""

    max_length: int | None = None
    min_length: int = 1
    choices: tuple[str, ...] = ()
    url: bool = False  # an http(s) URL


@dataclass(frozen=True)
class Integer:
    ge: int | None = None
    le: int | None = None


@dataclass(frozen=True)
class Boolean:
    pass


@dataclass(frozen=True)
class Date:
    """A calendar date, encoded as ``"YYYY-MM-DD"``."""


@dataclass(frozen=True)
class FileLink:
    """A link to an uploaded file by the CID of its bytes."""

    content_types: tuple[str, ...] = ()  # e.g. ("image/*",); empty: any type


@dataclass(frozen=True)
class Link:
    """A link to a record by its stable id: of a model of the same spec (``"artist"``), or
    of another domain's spec as ``"<domain>.<model>"`` (``"msocial.profile"``).

    A link to another domain is checked like one within the spec (the target exists, is
    of that model and the writer may read it), through the ``$type`` it names
    (``msocial/profile``), so the linking domain never imports the other. Codegen refuses
    a link to a domain none of the specs it renders declares."""

    model: str


@dataclass(frozen=True)
class ListOf:
    """An ordered list."""

    item: Any
    max_items: int | None = None


@dataclass(frozen=True)
class SetOf:
    """A set: stored as a sorted list without duplicates."""

    item: Any
    max_items: int | None = None


@dataclass(frozen=True)
class Embedded:
    """A value type embedded in records as a map (such as ``TitleData``)."""

    name: str
    fields: Sequence[Field]
    description: str = ""


# -- fields, models, the spec ---------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """A content field. ``kind`` is a kind above, an ``Embedded``, or a shorthand
    (``int``, ``bool``, ``date``)."""

    name: str
    kind: Any
    required: bool = False
    description: str = ""


@dataclass(frozen=True)
class Computed:
    """A read-only field that is not content, filled by the model's hooks."""

    name: str
    kind: Any
    description: str = ""


@dataclass(frozen=True)
class Model:
    """A versioned record model. ``search`` and ``sort`` name field paths such as
    ``"title.full"``; ``examples`` are request bodies that must satisfy the spec."""

    name: str
    fields: Sequence[Field]
    description: str = ""
    plural: str | None = None
    search: Sequence[str] = ()
    sort: Sequence[str] = ()
    computed: Sequence[Computed] = ()
    examples: Sequence[Mapping[str, Any]] = ()


@dataclass(frozen=True)
class Spec:
    """One domain's models."""

    domain: str
    models: Sequence[Model]
    description: str = ""
