"""The declarations a spec is made of: kinds, fields, embedded types, models, the spec."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

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
    """A link to a record of another model of the same spec, by its stable id."""

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
class Field:
    """A content field. ``kind`` is a kind above, an ``Embedded``, or a shorthand
    (``int``, ``bool``, ``date``)."""

    name: str
    kind: Any
    required: bool = False
    description: str = ""


@dataclass(frozen=True)
class Embedded:
    """A value type embedded in records as a map (such as ``TitleData``)."""

    name: str
    fields: Sequence[Field]
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


Kind = Union[Text, Integer, Boolean, Date, FileLink, Link, ListOf, SetOf, Embedded]  # noqa: UP007
SCALARS = (Text, Integer, Boolean, Date)
LINKS = (FileLink, Link)

# Names a content field cannot take: read metadata, list parameters, pydantic internals.
RESERVED = frozenset(
    {
        "id", "cid", "content_cid", "n", "owner_id", "visibility", "hidden", "created_at",
        "updated_at", "deleted", "deleted_at", "type", "cursor", "limit", "sort", "mine",
        "at", "to", "items", "next", "data", "actor", "session", "self",
        "schema", "json", "dict", "copy", "fields", "metadata", "registry",
    }
)  # fmt: skip
SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
PASCAL = re.compile(r"^[A-Z][A-Za-z0-9]*$")
FLOAT_NAMES = frozenset({"float", "double", "real", "number", "decimal"})
FLOAT_MESSAGE = (
    "non-integer numbers cannot be hashed canonically: use an integer with a unit"
    " (e.g. duration_ms) or decimal text"
)


@dataclass(frozen=True)
class SpecError:
    """One problem in a spec: which spec, where in it, what is wrong."""

    spec: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.spec}: {self.where}: {self.message}"


class SpecInvalid(Exception):
    """Raised with every error of every spec found invalid."""

    def __init__(self, errors: Sequence[SpecError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = list(errors)


@dataclass(frozen=True)
class PathInfo:
    """Where a search or sort path leads: its final kind and whether it is multi-valued."""

    kind: Any
    multi: bool
    required: bool


URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def param_name(path: str) -> str:
    """The query parameter and column name of a field path: ``title.full`` -> ``title_full``."""
    return path.replace(".", "_")


def resolve_path(model: Model, path: str) -> PathInfo:
    """Follow ``path`` through the model's fields (into embedded values and lists)."""
    fields: Sequence[Field] = model.fields
    kind: Any = None
    multi = False
    required = True
    parts = path.split(".")
    for i, part in enumerate(parts):
        match = next((f for f in fields if f.name == part), None)
        if match is None:
            raise ValueError(f"{'.'.join(parts[: i + 1])!r} is not a field")
        kind = match.kind
        required = required and match.required
        if isinstance(kind, ListOf | SetOf):
            multi = True
            kind = kind.item
        if isinstance(kind, Embedded):
            fields = kind.fields
            if i == len(parts) - 1:
                raise ValueError(f"{path!r} is an embedded value; name one of its fields")
        elif i != len(parts) - 1:
            raise ValueError(f"{'.'.join(parts[: i + 1])!r} has no fields")
    if not isinstance(kind, SCALARS + LINKS):
        raise ValueError(f"{path!r} cannot be searched or sorted")
    return PathInfo(kind=kind, multi=multi, required=required)
