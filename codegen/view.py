"""The spec as the templates see it: one view per model and embedded type, worked out once.

Templates lay the files out; the Python snippets that depend on a field's kind come from
the kind's class (``codegen/kinds/``), where they can be read and tested as code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from codegen.check import param_name, resolve_path
from codegen.expressions import article, kwargs, pascal, single_expr, snake, term_lines
from codegen.kinds import EmbeddedKind, FileLinkKind, LinkKind, ListKind, TextKind, page_field
from mcore.records.kinds import Field, Model, Spec

GENERIC_SORTS = ("created_at", "updated_at")


# -- views ----------------------------------------------------------------------------------


@dataclass
class FieldView:
    name: str
    annotation: str
    call: str
    update_annotation: str
    update_call: str
    content: str
    fake: str  # an expression for a fake value (seeder/_generated/)
    fake_guard: str | None  # without it, an optional fake value is left out
    required: bool


@dataclass
class EmbeddedView:
    cls: str
    func: str
    description: str
    fields: list[FieldView]
    kind: EmbeddedKind


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
class PageSearch:
    param: str
    label: str
    kind: str  # text, integer, date, link or file: how the search box's words are read


@dataclass
class PagesView:
    """What the web pages of a model need beyond the API's view (``api.web.fields``)."""

    route: str
    fields: list[str]  # PageField expressions
    title: str  # the path of the field that names a record (``name.full``)
    title_param: str | None  # the list parameter that searches it
    cover: str | None  # the field holding its image: a file, or a record with one
    cover_target: str | None  # the model that field links to (None: a file itself)
    search: list[PageSearch]


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
    pages: PagesView

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
    spec: Spec | None = None  # the checked spec itself, for views made from it elsewhere


def _field_call(f: Field, *, update: bool = False) -> str:
    """The ``Field(...)`` of a content field in the Base (or, with ``update``, Update) schema."""
    parts = []
    if update:
        parts.append("default=None")
    elif not f.required:
        parts.append("default_factory=list" if f.kind.collection else "default=None")
    extra = kwargs(**f.kind.constraints(required=f.required))
    if extra:
        parts.append(extra)
    if f.description:
        parts.append(f"description={f.description!r}")
    return f"Field({', '.join(parts)})"


def _field_view(f: Field, var: str = "data") -> FieldView:
    annotation = f.kind.annotation()
    optional = not f.required and not f.kind.collection
    return FieldView(
        name=f.name,
        annotation=f"{annotation} | None" if optional else annotation,
        call=_field_call(f),
        update_annotation=f"{annotation} | None",
        update_call=_field_call(f, update=True),
        content=f.kind.content(f"{var}.{f.name}", optional=not f.required),
        fake=f.kind.fake(repr(f.name) if var == "data" else f"hint + {'.' + f.name!r}"),
        fake_guard=f.kind.fake_guard(),
        required=f.required,
    )


def _column(model: Model, path: str) -> ColumnView:
    info = resolve_path(model, path)
    kind = info.kind
    nullable = not info.required
    args = ["default=None"] if nullable else []
    args += kind.column_args()
    if kind.indexed:
        args.append("index=True")
    return ColumnView(
        name=param_name(path),
        annotation=f"{kind.py_type} | None" if nullable else kind.py_type,
        call=f"Field({', '.join(args)})",
        value=single_expr(model.fields, path.split("."), "data", fold=kind.folds),
    )


def _filter(model: Model, cls: str, path: str) -> FilterView:
    info = resolve_path(model, path)
    kind = info.kind
    name = param_name(path)
    if info.multi:
        build = f"HasTerm({path!r}, {kind.term_param(name)})"
        what = kind.includes
    else:
        build = kind.match(cls, name)
        what = kind.matches
    return FilterView(
        param=name,
        annotation=f"{kind.py_type} | None",
        description=f"Only those whose {path} {what}",
        build=build,
        bounds=kind.filter_bounds,
    )


def _image_field(model: Model) -> str | None:
    """The first field that is a link to an image file, if any."""
    for f in model.fields:
        if isinstance(f.kind, FileLinkKind) and any(
            t.startswith("image/") for t in f.kind.content_types
        ):
            return f.name
    return None


def _title_path(model: Model) -> str:
    for f in model.fields:
        if isinstance(f.kind, EmbeddedKind) and any(e.name == "full" for e in f.kind.fields):
            return f"{f.name}.full"
    texts = [f for f in model.fields if isinstance(f.kind, TextKind)]
    return next((f.name for f in texts if f.required), texts[0].name if texts else "")


def _search_label(path: str) -> str:
    """``title.full`` -> ``Title (full)``; ``release_date`` -> ``Release date``."""
    first, *rest = path.replace("_", " ").split(".")
    words = first[:1].upper() + first[1:]
    return f"{words} ({' '.join(rest)})" if rest else words


def _search_kind(kind: Any) -> str:
    if isinstance(kind, LinkKind):
        return "link"
    if isinstance(kind, FileLinkKind):
        return "file"
    return {"int": "integer", "date": "date"}.get(getattr(kind, "py_type", "str"), "text")


def pages_view(spec: Spec, model: Model, plural: str) -> PagesView:
    cover, target = _image_field(model), None
    if cover is None:
        by_name = {m.name: m for m in spec.models}
        for f in model.fields:
            kind = f.kind.item if isinstance(f.kind, ListKind) else f.kind
            # (a model of another domain is not looked into: its pages may not be installed)
            is_link = isinstance(kind, LinkKind) and not kind.foreign
            linked = by_name[kind.model] if is_link else None
            # the linked model's image must be a list column, read for a page in one query
            if linked is not None and _image_field(linked) in linked.search:
                cover, target = f.name, kind.model
                break
    title = _title_path(model)
    search = [
        PageSearch(param_name(p), _search_label(p), _search_kind(resolve_path(model, p).kind))
        for p in model.search
    ]
    title_param = param_name(title) if title in model.search else None
    return PagesView(
        route="/" + plural.replace("_", "-"),
        fields=[
            page_field(f.name, f.kind, required=f.required, description=f.description)
            for f in model.fields
        ],
        title=title,
        title_param=title_param or next((s.param for s in search if s.kind == "text"), None),
        cover=cover,
        cover_target=target,
        search=search,
    )


def model_view(spec: Spec, model: Model) -> ModelView:
    cls = pascal(model.name)
    plural = model.plural or f"{model.name}s"
    types = {m.name: f"{spec.domain}/{m.name}" for m in spec.models}
    links: list[str] = []
    for f in model.fields:
        links += f.kind.link_lines(
            f"data.{f.name}", [f.name], optional=not f.required, depth=0, types=types
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
            ComputedView(c.name, f"{c.kind.annotation()} | None", c.description)
            for c in model.computed
        ],
        link_lines=links,
        term_lines=terms,
        examples=[dict(e) for e in model.examples],
        pages=pages_view(spec, model, plural),
    )


def _embedded_in_order(spec: Spec) -> list[EmbeddedKind]:
    """Embedded types, each after the ones it holds (so classes are defined before use)."""
    ordered: dict[str, EmbeddedKind] = {}
    for model in spec.models:
        for f in model.fields:
            for embedded in f.kind.embedded_types():
                ordered.setdefault(embedded.name, embedded)
    return list(ordered.values())


def spec_view(spec: Spec, origin: str) -> SpecView:
    """The view of a checked spec; ``origin`` is its path as the banner names it."""
    embedded = [
        EmbeddedView(
            cls=e.name,
            func=f"_{snake(e.name)}_content",
            description=e.description,
            fields=[_field_view(f, "value") for f in e.fields],
            kind=e,
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
