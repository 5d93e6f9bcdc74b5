"""The table of field kinds: every kind the spec language declares has its class in
codegen, and a checked spec holds those classes (shorthands resolved)."""

from __future__ import annotations

import inspect
from dataclasses import fields

from codegen.check import check_spec
from codegen.kinds import KINDS, DateKind, EmbeddedKind, Kind, ListKind, TextKind
from mcore.records import kinds
from tests.codegen import tiny_spec

NOT_KINDS = {kinds.Field, kinds.Computed, kinds.Model, kinds.Spec}


def test_every_declared_kind_has_its_class() -> None:
    declared = {getattr(kinds, name) for name in kinds.__all__} - NOT_KINDS
    assert set(KINDS) == declared
    for declaration, cls in KINDS.items():
        assert issubclass(cls, declaration)
        assert issubclass(cls, Kind)
        assert not inspect.isabstract(cls), f"{cls.__name__} leaves a question unanswered"
        assert [f.name for f in fields(cls)] == [f.name for f in fields(declaration)]


def test_a_checked_spec_holds_the_kind_classes() -> None:
    spec, errors = check_spec(tiny_spec.SPEC, "tiny_spec.py")
    assert errors == []
    assert spec is not None
    by_name = {f.name: f.kind for f in spec.models[0].fields}
    assert isinstance(by_name["title"], TextKind)
    assert by_name["title"].max_length == 100  # the declaration's values, as declared
    assert isinstance(by_name["day"], DateKind)  # the shorthand `date`
    bylines = by_name["bylines"]
    assert isinstance(bylines, ListKind)
    assert isinstance(bylines.item, EmbeddedKind)
    assert all(isinstance(f.kind, Kind) for f in bylines.item.fields)
