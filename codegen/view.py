"""The spec as the templates see it: names, annotations and code snippets, worked out once.

Templates lay the files out; the Python expressions that depend on a field's kind (its
annotation, its content expression, where its links are) are built here, where they can
be read and tested as code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mcore.records.encoding import FOLD_GROWTH
from mcore.records.spec import (
    Boolean,
    Date,
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
    param_name,
    resolve_path,
)

GENERIC_SORTS = ("created_at", "updated_at")
# Longer text is searched by substring (no index helps) and could pass PostgreSQL's
# limit on the size of an index entry.
INDEXED_TEXT = 500


def pascal(name: str) -> str:
    """``still_image`` -> ``StillImage``."""
    return "".join(part.capitalize() for part in name.split("_"))


def snake(name: str) -> str:
    """``TitleData`` -> ``title_data``."""
    out = []
    for i, char in enumerate(name):
        if char.isupper() and i:
            out.append("_")
        out.append(char.lower())
    return "".join(out)


def article(words: str) -> str:
    """``a still image``, ``an image file``."""
    return f"an {words}" if words[:1] in "aeiou" else f"a {words}"


def _kwargs(**values: Any) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in values.items() if v is not None)


# -- annotations ----------------------------------------------------------------------------


def annotation(kind: Any, *, item: bool = False) -> str:
    """The type annotation of a content value of ``kind`` (``item``: inside a list)."""
    if isinstance(kind, Text):
        if kind.choices:
            return "Literal[" + ", ".join(repr(c) for c in kind.choices) + "]"
        base = "WebUrl" if kind.url else "ContentText"
        if not item:
            return base
        limits = _kwargs(min_length=kind.min_length or None, max_length=kind.max_length)
        return f"Annotated[{base}, Field({limits})]"
    if isinstance(kind, Integer):
        if item and (kind.ge is not None or kind.le is not None):
            return f"Annotated[ContentInt, Field({_kwargs(ge=kind.ge, le=kind.le)})]"
        return "ContentInt"
    if isinstance(kind, Boolean):
        return "ContentBool"
    if isinstance(kind, Date):
        return "CalendarDate"
    if isinstance(kind, FileLink):
        return "FileCid"
    if isinstance(kind, Link):
        return "RecordId"
    if isinstance(kind, ListOf | SetOf):
        return f"list[{annotation(kind.item, item=True)}]"
    if isinstance(kind, Embedded):
        return kind.name
    raise TypeError(f"no annotation for {kind!r}")


def constraints(kind: Any, *, required: bool) -> dict[str, Any]:
    """Field(...) constraints of a top-level value of ``kind``."""
    if isinstance(kind, Text) and not kind.choices:
        return {"min_length": kind.min_length or None, "max_length": kind.max_length}
    if isinstance(kind, Integer):
        return {"ge": kind.ge, "le": kind.le}
    if isinstance(kind, ListOf | SetOf):
        return {"min_length": 1 if required else None, "max_length": kind.max_items}
    return {}


def field_call(f: Field, *, update: bool = False) -> str:
    """The ``Field(...)`` of a content field in the Base (or, with ``update``, Update) schema."""
    parts = []
    if update:
        parts.append("default=None")
    elif isinstance(f.kind, ListOf | SetOf) and not f.required:
        parts.append("default_factory=list")
    elif not f.required:
        parts.append("default=None")
    extra = _kwargs(**constraints(f.kind, required=f.required))
    if extra:
        parts.append(extra)
    if f.description:
        parts.append(f"description={f.description!r}")
    return f"Field({', '.join(parts)})"


def base_annotation(f: Field) -> str:
    text = annotation(f.kind)
    if not f.required and not isinstance(f.kind, ListOf | SetOf):
        text += " | None"
    return text


# -- content, links, terms ------------------------------------------------------------------


def content_expr(kind: Any, value: str, *, optional: bool) -> str:
    """The expression that turns a schema value into what the content record holds."""
    if isinstance(kind, Link | FileLink):
        return f"link({value})"
    if isinstance(kind, Embedded):
        call = f"_{snake(kind.name)}_content({value})"
        return f"{call} if {value} is not None else None" if optional else call
    if isinstance(kind, ListOf):
        inner = content_expr(kind.item, "item", optional=False)
        return (
            f"list({value}) or None"
            if inner == "item"
            else f"[{inner} for item in {value}] or None"
        )
    if isinstance(kind, SetOf):
        inner = content_expr(kind.item, "item", optional=False)
        return (
            f"set({value}) or None"
            if inner == "item"
            else f"{{{inner} for item in {value}}} or None"
        )
    return value


def _path_literal(parts: list[str]) -> str:
    text = ".".join(parts)
    return f'f"{text}"' if "{" in text else repr(text)


def _loop_name(path: list[str]) -> str:
    """A loop variable named for its list (each loop its own name, so each its own type)."""
    words = [p for p in path if not p.startswith("{")]
    return "_".join([*words, "item"])


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]


def link_lines(
    kind: Any, value: str, path: list[str], *, optional: bool, depth: int, types: dict[str, str]
) -> list[str]:
    """Statements appending a ``LinkUse`` for each link reachable from ``value``."""
    lines: list[str] = []
    if isinstance(kind, Link):
        lines = [
            f"uses.append(record_link({_path_literal(path)}, {value},"
            f" {types[kind.model]!r}, {kind.model.replace('_', ' ')!r}))"
        ]
    elif isinstance(kind, FileLink):
        lines = [
            f"uses.append(file_link({_path_literal(path)}, {value}, {tuple(kind.content_types)!r}))"
        ]
    elif isinstance(kind, ListOf | SetOf):
        index, item = f"i{depth}", _loop_name(path)
        body = link_lines(
            kind.item, item, [*path, f"{{{index}}}"], optional=False, depth=depth + 1, types=types
        )
        if body:
            lines = [f"for {index}, {item} in enumerate({value}):", *_indent(body)]
        optional = False
    elif isinstance(kind, Embedded):
        for f in kind.fields:
            lines += link_lines(
                f.kind,
                f"{value}.{f.name}",
                [*path, f.name],
                optional=not f.required,
                depth=depth,
                types=types,
            )
    if lines and optional:
        lines = [f"if {value} is not None:", *_indent(lines)]
    return lines


def _term_value(kind: Any, value: str) -> str:
    if isinstance(kind, Integer):
        return f"str({value})"
    return f"fold({value})" if isinstance(kind, Text) else value


def term_lines(fields: Any, parts: list[str], value: str, path: str, depth: int) -> list[str]:
    """Statements appending ``(path, value)`` for each value a multi-valued path reaches."""
    f = next(f for f in fields if f.name == parts[0])
    here = f"{value}.{f.name}"
    rest = parts[1:]
    kind = f.kind
    if isinstance(kind, ListOf | SetOf):
        item = _loop_name([*value.split(".")[1:], f.name])
        inner = kind.item
        if rest:
            body = term_lines(inner.fields, rest, item, path, depth + 1)
        else:
            body = [f"terms.append(({path!r}, {_term_value(inner, item)}))"]
        return [f"for {item} in {here}:", *_indent(body)]
    if isinstance(kind, Embedded):
        body = term_lines(kind.fields, rest, here, path, depth)
    else:
        body = [f"terms.append(({path!r}, {_term_value(kind, here)}))"]
    return body if f.required else [f"if {here} is not None:", *_indent(body)]


def single_expr(fields: Any, parts: list[str], value: str, *, fold: bool = False) -> str:
    """The expression of a single-valued path, ``None`` when an optional part is missing;
    with ``fold``, its text case-folded for search and sort."""
    guards: list[str] = []
    current = value
    for i, part in enumerate(parts):
        f = next(f for f in fields if f.name == part)
        current = f"{current}.{part}"
        if i < len(parts) - 1:
            if not f.required:
                guards.append(f"{current} is not None")
            fields = f.kind.fields
    if fold:
        current = f"fold({current})"
    return f"{current} if {' and '.join(guards)} else None" if guards else current


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
        what = "holds this value" if not isinstance(kind, Link) else "links to this id"
    elif isinstance(kind, Text) and not kind.choices:
        build = f"Match({cls}.{name}, {name}, contains=True)"
    else:
        build = f"Match({cls}.{name}, {name})"
        if isinstance(kind, Text):
            what = "equals this"
    return FilterView(
        param=name,
        annotation=f"{py} | None",
        description=f"Only those whose {path} {what}",
        build=build,
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
    )
