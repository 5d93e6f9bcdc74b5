"""The spec as the templates see it: one view per model and embedded type, worked out once.

Templates lay the files out; the Python snippets that depend on a field's kind come from
``codegen.expressions``, where they can be read and tested as code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from codegen.expressions import (
    annotation,
    article,
    base_annotation,
    content_expr,
    field_call,
    link_lines,
    pascal,
    single_expr,
    snake,
    term_lines,
)
from mcore.records.encoding import FOLD_GROWTH, INT_MAX, INT_MIN
from mcore.records.spec import (
    Boolean,
    Date,
    Embedded,
    Field,
    Integer,
    Link,
    ListOf,
    Model,
    SetOf,
    Spec,
    Text,
    param_name,
    resolve_path,
)

GENERIC_SORTS = ("created_at", "updated_at")
# Longer text is searched by substring (no index helps) and could pass PostgreSQL's
# limit on the size of an index entry.
INDEXED_TEXT = 500


# -- views ----------------------------------------------------------------------------------


@dataclass
class FieldView:
    name: str
    annotation: str
    call: str
    update_annotation: str
    update_call: str
    content: str


@dataclass
class EmbeddedView:
    cls: str
    func: str
    description: str
    fields: list[FieldView]


@dataclass
class ColumnView:
    name: str
    annotation: str
    call: str
    value: str


@dataclass
class FilterView:
    param: str
    annotation: str
    description: str
    build: str
    bounds: str = ""  # ", ge=..., le=..." for an integer: out of range is 422, not "no match"


@dataclass
class ComputedView:
    name: str
    annotation: str
    description: str


@dataclass
class ModelView:
    name: str
    cls: str
    const: str
    label: str
    plural: str
    plural_label: str
    url: str
    table: str
    type_name: str
    id_param: str
    description: str
    fields: list[FieldView]
    columns: list[ColumnView]
    filters: list[FilterView]
    sorts: list[str]
    computed: list[ComputedView]
    link_lines: list[str]
    term_lines: list[str]
    examples: list[Any]

    @property
    def a_label(self) -> str:
        return article(self.label)


@dataclass
class SpecView:
    domain: str
    origin: str
    description: str
    models: list[ModelView]
    embedded: list[EmbeddedView]
    uses: set[str] = field(default_factory=set)
    spec: Spec | None = None  # the checked spec itself, for views made from it elsewhere


def _field_view(f: Field, var: str = "data") -> FieldView:
    return FieldView(
        name=f.name,
        annotation=base_annotation(f),
        call=field_call(f),
        update_annotation=f"{annotation(f.kind)} | None",
        update_call=field_call(f, update=True),
        content=content_expr(f.kind, f"{var}.{f.name}", optional=not f.required),
    )


def _column(model: Model, path: str) -> ColumnView:
    info = resolve_path(model, path)
    kind = info.kind
    name = param_name(path)
    nullable = not info.required
    kwargs: list[str] = ["default=None"] if nullable else []
    if isinstance(kind, Text):
        py = "str"
        kwargs.append(f"max_length={(kind.max_length or 255) * FOLD_GROWTH}")
    elif isinstance(kind, Integer):
        py = "int"
        kwargs.append("sa_type=BigInteger()")
    elif isinstance(kind, Date):
        py = "date"
    elif isinstance(kind, Boolean):
        py = "bool"
    else:
        py = "str"
        kwargs.append("max_length=64")
    if not isinstance(kind, Text) or (kind.max_length or 0) <= INDEXED_TEXT:
        kwargs.append("index=True")
    return ColumnView(
        name=name,
        annotation=f"{py} | None" if nullable else py,
        call=f"Field({', '.join(kwargs)})",
        value=single_expr(model.fields, path.split("."), "data", fold=isinstance(kind, Text)),
    )


def _filter(model: Model, cls: str, path: str) -> FilterView:
    info = resolve_path(model, path)
    kind = info.kind
    name = param_name(path)
    if isinstance(kind, Text):
        py, what = "str", "contains this text (any case)"
    elif isinstance(kind, Integer):
        py, what = "int", "equals this"
    elif isinstance(kind, Date):
        py, what = "date", "is this date"
    elif isinstance(kind, Boolean):
        py, what = "bool", "is this"
    else:
        py, what = "str", "links to this id" if isinstance(kind, Link) else "is this file CID"
    if info.multi:
        value = f"str({name})" if isinstance(kind, Integer) else name
        if value != name:
            value = f"None if {name} is None else {value}"
        build = f"HasTerm({path!r}, {value})"
        what = "include this id" if isinstance(kind, Link) else "include this value"
    elif isinstance(kind, Text) and not kind.choices:
        build = f"Match({cls}.{name}, {name}, contains=True)"
    else:
        build = f"Match({cls}.{name}, {name})"
        if isinstance(kind, Text):
            what = "equals this"
    bounds = ""
    if isinstance(kind, Integer):
        low = INT_MIN if kind.ge is None else kind.ge
        high = INT_MAX if kind.le is None else kind.le
        bounds = f", ge={low}, le={high}"
    return FilterView(
        param=name,
        annotation=f"{py} | None",
        description=f"Only those whose {path} {what}",
        build=build,
        bounds=bounds,
    )


def model_view(spec: Spec, model: Model) -> ModelView:
    cls = pascal(model.name)
    plural = model.plural or f"{model.name}s"
    types = {m.name: f"{spec.domain}/{m.name}" for m in spec.models}
    links: list[str] = []
    for f in model.fields:
        links += link_lines(
            f.kind, f"data.{f.name}", [f.name], optional=not f.required, depth=0, types=types
        )
    singles = [p for p in model.search if not resolve_path(model, p).multi]
    column_paths = list(dict.fromkeys([*singles, *model.sort]))
    terms: list[str] = []
    for path in model.search:
        if resolve_path(model, path).multi:
            terms += term_lines(model.fields, path.split("."), "data", path, 0)
    return ModelView(
        name=model.name,
        cls=cls,
        const=model.name.upper(),
        label=model.name.replace("_", " "),
        plural=plural,
        plural_label=plural.replace("_", " "),
        url=f"/api/v1/{plural.replace('_', '-')}",
        table=f"{spec.domain}_{plural}",
        type_name=types[model.name],
        id_param=f"{model.name}_id",
        description=model.description,
        fields=[_field_view(f) for f in model.fields],
        columns=[_column(model, p) for p in column_paths],
        filters=[_filter(model, cls, p) for p in model.search],
        sorts=[*GENERIC_SORTS, *(param_name(p) for p in model.sort)],
        computed=[
            ComputedView(c.name, f"{annotation(c.kind)} | None", c.description)
            for c in model.computed
        ],
        link_lines=links,
        term_lines=terms,
        examples=[dict(e) for e in model.examples],
    )


def _embedded_in_order(spec: Spec) -> list[Embedded]:
    """Embedded types, each after the ones it holds (so classes are defined before use)."""
    ordered: dict[str, Embedded] = {}

    def visit(kind: Any) -> None:
        if isinstance(kind, ListOf | SetOf):
            visit(kind.item)
        elif isinstance(kind, Embedded) and kind.name not in ordered:
            for f in kind.fields:
                visit(f.kind)
            ordered[kind.name] = kind

    for model in spec.models:
        for f in model.fields:
            visit(f.kind)
    return list(ordered.values())


def spec_view(spec: Spec, origin: str) -> SpecView:
    """The view of a checked spec; ``origin`` is its path as the banner names it."""
    embedded = [
        EmbeddedView(
            cls=e.name,
            func=f"_{snake(e.name)}_content",
            description=e.description,
            fields=[_field_view(f, "value") for f in e.fields],
        )
        for e in _embedded_in_order(spec)
    ]
    return SpecView(
        domain=spec.domain,
        origin=origin,
        description=spec.description,
        models=[model_view(spec, m) for m in spec.models],
        embedded=embedded,
        spec=spec,
    )
