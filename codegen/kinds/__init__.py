"""What codegen makes of each field kind: one class per kind, and the table that finds it.

A kind class is its declaration from ``mcore.records.kinds`` (``TextKind`` is a ``Text``)
plus everything that depends on the kind: how the declaration and an example's values are
checked, and what the kind is in each output (pydantic annotation and constraints, list
table column, content expression, links and search terms, SDK annotation and decoding,
command-line options and list filters). ``Kind`` in ``_base.py`` lists what every kind
answers, with the answers most kinds share.

- A new output that differs by kind (web form widgets, fake values for the seeder) is a
  method on ``Kind`` (a default, where one makes sense) and one on each kind it differs for.
- A new kind is its declaration in ``mcore.records.kinds``, its class here, and its row
  in ``KINDS``.
"""

from __future__ import annotations

from typing import Any

from codegen.kinds._base import CliOption, Kind, ScalarKind, page_field
from codegen.kinds._containers import EmbeddedKind, ListKind, SetKind
from codegen.kinds._scalars import (
    BooleanKind,
    DateKind,
    FileLinkKind,
    IntegerKind,
    LinkKind,
    TextKind,
)
from mcore.records.kinds import (
    Boolean,
    Date,
    Embedded,
    FileLink,
    Integer,
    Link,
    ListOf,
    SetOf,
    Text,
)

KINDS: dict[type, type[Kind]] = {
    Text: TextKind,
    Integer: IntegerKind,
    Boolean: BooleanKind,
    Date: DateKind,
    FileLink: FileLinkKind,
    Link: LinkKind,
    ListOf: ListKind,
    SetOf: SetKind,
    Embedded: EmbeddedKind,
}
"""The class of each declaration of ``mcore.records.kinds``."""


def kind_class(declared: Any) -> type[Kind] | None:
    """The kind class of a declaration (or of a subclass of one), None if it is no kind."""
    for cls in type(declared).__mro__:
        if cls in KINDS:
            return KINDS[cls]
    return None


__all__ = [
    "KINDS",
    "BooleanKind",
    "CliOption",
    "DateKind",
    "EmbeddedKind",
    "FileLinkKind",
    "IntegerKind",
    "Kind",
    "LinkKind",
    "ListKind",
    "ScalarKind",
    "SetKind",
    "TextKind",
    "kind_class",
    "page_field",
]
