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


def test_each_kind_picks_its_page_widget() -> None:
    from api.web.fields import PageField
    from codegen.kinds import page_field

    spec, errors = check_spec(tiny_spec.SPEC, "tiny_spec.py")
    assert errors == []
    assert spec is not None
    widgets = {
        f.name: eval(  # the generated expression, as the pages module holds it
            page_field(f.name, f.kind, required=f.required, description=f.description),
            {"PageField": PageField},
        )
        for f in spec.models[0].fields
    }
    kinds_of = {name: w.kind for name, w in widgets.items()}
    assert kinds_of == {
        "title": "text",
        "body": "longtext",
        "mood": "choice",
        "tags": "list",
        "score": "integer",
        "day": "date",
        "pinned": "boolean",
        "attachment": "file",
        "related": "list",
        "bylines": "list",
    }
    assert widgets["title"] == PageField(
        "title", "text", max_length=100, required=True, description="What it is about"
    )
    assert widgets["mood"].choices == ("calm", "loud")
    assert (widgets["score"].ge, widgets["score"].le) == (0, 10)
    assert widgets["tags"].unique is True
    assert widgets["tags"].item == PageField("item", "text", max_length=30)
    assert widgets["related"].unique is False
    assert widgets["related"].item == PageField("item", "link", target="note")
    byline = widgets["bylines"].item
    assert byline is not None
    assert byline.kind == "embedded"
    assert byline.type_name == "Byline"
    assert [(f.name, f.kind, f.required) for f in byline.fields] == [
        ("name", "text", True),
        ("note", "link", False),
    ]
