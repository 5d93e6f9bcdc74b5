"""Spec types: how a domain declares its record models once, for codegen to render.

A domain's ``specs.py`` builds a ``Spec`` from these declarations and codegen loads it by
path. :func:`check_spec` collects every problem at once (each naming its model and field)
and returns the spec with shorthand kinds resolved. Kinds the canonical encoding forbids,
such as ``float``, are refused here, long before anything is hashed.

A model in brief (see ``mart/specs.py`` for the art models)::

    NOTE = Model(
        "note",                                   # snake_case: class Note, /api/v1/notes
        fields=[
            Field("title", Text(max_length=100), required=True),
            Field("tags", SetOf(Text(max_length=30), max_items=10)),   # sorted, unique
            Field("day", date),                                       # "YYYY-MM-DD"
            Field("image", FileLink(("image/*",))),                   # a file by CID
            Field("related", ListOf(Link("note"), max_items=5)),      # records by id
        ],
        search=["title", "tags"],  # query parameters title= and tags= on the list route
        sort=["title"],            # sort=title, sort=-title (plus created_at, updated_at)
        examples=[{"title": "First"}],            # checked here; hashed by golden tests
    )
    SPEC = Spec(domain="tiny", models=[NOTE])

Adding or changing a model: edit the spec, run ``python -m codegen``, then make the
migration with ``alembic revision --autogenerate`` against an upgraded database.
"""

from mcore.records.kinds._check import check_spec
from mcore.records.kinds._kinds import (
    Boolean,
    Computed,
    Date,
    Embedded,
    Field,
    FileLink,
    Integer,
    Kind,
    Link,
    ListOf,
    Model,
    PathInfo,
    SetOf,
    Spec,
    SpecError,
    SpecInvalid,
    Text,
    param_name,
    resolve_path,
)

__all__ = [
    "Boolean",
    "Computed",
    "Date",
    "Embedded",
    "Field",
    "FileLink",
    "Integer",
    "Kind",
    "Link",
    "ListOf",
    "Model",
    "PathInfo",
    "SetOf",
    "Spec",
    "SpecError",
    "SpecInvalid",
    "Text",
    "check_spec",
    "param_name",
    "resolve_path",
]
