"""The spec as the client templates see it: typed SDK classes and CLI options per model.

The client is its own distribution and knows nothing of the server's schemas, so its
classes are plain dataclasses: this module works out, for each field, its annotation,
how a read's JSON becomes it, the arguments that set it and the command-line options
that do the same (scalars as options, embedded types flattened one level, lists repeated).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from codegen.expressions import pascal
from codegen.view import ModelView, SpecView
from mcore.records.kinds import (
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
    SpecError,
    SpecInvalid,
    Text,
    resolve_path,
)

SCALAR_KINDS = (Text, Integer, Boolean, Date, FileLink, Link)


@dataclass
class CliOption:
    """One command-line option that sets a value at ``path`` in the request body."""

    flag: str
    dest: str
    path: list[str]
    click_type: str
    metavar: str
    multiple: bool
    boolean: bool
    help: str


@dataclass
class ClientField:
    name: str
    description: str
    required: bool
    annotation: str
    default: str | None
    decode: str
    create_param: str
    update_param: str


@dataclass
class ClientEmbedded:
    cls: str
    description: str
    fields: list[ClientField]


@dataclass
class ClientFilter:
    param: str
    flag: str
    annotation: str
    click_type: str
    boolean: bool
    help: str


@dataclass
class ClientModel:
    m: ModelView
    cls: str
    resource: str
    async_resource: str
    calls: str
    attr: str
    command: str
    fields: list[ClientField]
    computed: list[ClientField]
    options: list[CliOption]
    filters: list[ClientFilter]
    sorts: list[str]
    label_header: str
    label_path: list[str]


@dataclass
class ClientSpec:
    domain: str
    origin: str
    description: str
    embedded: list[ClientEmbedded]
    models: list[ClientModel]
    uses_date: bool = False
    uses_literal: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


# -- per kind -------------------------------------------------------------------------------


def annotation(kind: Any) -> str:
    """The annotation of a value of ``kind`` in a read."""
    if isinstance(kind, Text):
        if kind.choices:
            return "Literal[" + ", ".join(repr(c) for c in kind.choices) + "]"
        return "str"
    if isinstance(kind, Integer):
        return "int"
    if isinstance(kind, Boolean):
        return "bool"
    if isinstance(kind, Date):
        return "date"
    if isinstance(kind, FileLink | Link):
        return "str"
    if isinstance(kind, ListOf | SetOf):
        return f"list[{annotation(kind.item)}]"
    if isinstance(kind, Embedded):
        return kind.name
    raise TypeError(f"no client annotation for {kind!r}")


def argument(kind: Any) -> str:
    """The annotation of an argument giving a value of ``kind`` (dicts for embedded types)."""
    if isinstance(kind, ListOf | SetOf):
        return f"Sequence[{argument(kind.item)}]"
    if isinstance(kind, Embedded):
        return f"{kind.name} | Mapping[str, Any]"
    return annotation(kind)


def decode(kind: Any, expr: str, depth: int = 0) -> str:
    """The expression turning JSON ``expr`` into a value of ``kind``."""
    if isinstance(kind, Date):
        return f"date.fromisoformat({expr})"
    if isinstance(kind, Embedded):
        return f"{kind.name}.from_json({expr})"
    if isinstance(kind, ListOf | SetOf):
        var = f"item{depth}" if depth else "item"
        inner = decode(kind.item, var, depth + 1)
        return f"list({expr})" if inner == var else f"[{inner} for {var} in {expr}]"
    return expr


def _is_list(kind: Any) -> bool:
    return isinstance(kind, ListOf | SetOf)


def client_field(f: Field | Any, *, computed: bool = False) -> ClientField:
    kind = f.kind
    required = bool(getattr(f, "required", False)) and not computed
    key = repr(f.name)
    if _is_list(kind):
        value = decode(kind, f"data.get({key}) or []")
        default: str | None = "field(default_factory=list)"
        ann = annotation(kind)
    elif required:
        value = decode(kind, f"data[{key}]")
        default = None
        ann = annotation(kind)
    else:
        inner = decode(kind, f"data[{key}]")
        plain = f"data.get({key})"
        value = (
            plain if inner == f"data[{key}]" else f"None if data.get({key}) is None else {inner}"
        )
        default = "None"
        ann = f"{annotation(kind)} | None"
    arg = argument(kind)
    return ClientField(
        name=f.name,
        description=f.description or "",
        required=required,
        annotation=ann,
        default=default,
        decode=value,
        create_param=arg if required else f"{arg} | None = None",
        update_param=f"{arg} | Unset = UNSET" if required else f"{arg} | Unset | None = UNSET",
    )


def _click_type(kind: Any) -> str:
    if isinstance(kind, Integer):
        return "int"
    if isinstance(kind, Text) and kind.choices:
        return "click.Choice(" + repr(list(kind.choices)) + ")"
    return "str"


def _options(f: Field) -> list[CliOption]:
    """Options for a field: scalars and lists of scalars directly, embedded types one level
    deep; lists of embedded values only through ``--data``."""
    kind = f.kind
    help_text = f.description or f.name.replace("_", " ")
    if isinstance(kind, SCALAR_KINDS):
        return [_option([f.name], kind, help_text, multiple=False)]
    if _is_list(kind) and isinstance(kind.item, SCALAR_KINDS):
        return [_option([f.name], kind.item, help_text + " (repeat for each)", multiple=True)]
    if isinstance(kind, Embedded):
        return [
            _option([f.name, sub.name], sub.kind, f"{help_text}: {sub.description or sub.name}",
                    multiple=False)
            for sub in kind.fields
            if isinstance(sub.kind, SCALAR_KINDS)
        ]  # fmt: skip
    return []


def _metavar(kind: Any) -> str:
    if isinstance(kind, Link):
        return "ID"
    if isinstance(kind, FileLink):
        return "CID"
    if isinstance(kind, Date):
        return "YYYY-MM-DD"
    if isinstance(kind, Integer):
        return "INTEGER"
    if isinstance(kind, Text) and kind.url:
        return "URL"
    return "TEXT"


def _option(path: list[str], kind: Any, help_text: str, *, multiple: bool) -> CliOption:
    dest = "_".join(path)
    return CliOption(
        flag="--" + dest.replace("_", "-"),
        dest=dest,
        path=path,
        click_type=_click_type(kind),
        metavar=_metavar(kind),
        multiple=multiple,
        boolean=isinstance(kind, Boolean) and not multiple,
        help=help_text,
    )


def _filter(model: Model, param: str, path: str, description: str) -> ClientFilter:
    kind = resolve_path(model, path).kind
    boolean = isinstance(kind, Boolean)
    if isinstance(kind, Integer):
        ann, click_type = "int", "int"
    elif boolean:
        ann, click_type = "bool", "bool"
    elif isinstance(kind, Date):
        ann, click_type = "date | str", "str"
    else:
        ann, click_type = "str", "str"
    return ClientFilter(
        param=param,
        flag="--" + param.replace("_", "-"),
        annotation=f"{ann} | None",
        click_type=click_type,
        boolean=boolean,
        help=description,
    )


def _label(model: Model) -> tuple[str, list[str]]:
    """The column a list shows next to ids: the first sort path, else the first required
    single field; its header and the attribute path that reads it from a record."""
    paths = [p for p in model.sort if not resolve_path(model, p).multi]
    if not paths:
        paths = [f.name for f in model.fields if f.required and isinstance(f.kind, SCALAR_KINDS)]
    if not paths:
        return "CID", ["cid"]
    parts = paths[0].split(".")
    return parts[0].upper(), parts


def _clashes(
    origin: str, model: Model, options: list[CliOption], filters: list[str]
) -> list[SpecError]:
    """Names the generated methods and commands would use twice (reported as spec errors)."""
    taken = {
        "if_match",
        "page_size",
        "clear",
        "every",
        "version_cid",
        model.name,
        f"{model.name}_id",
    }
    errors = [
        SpecError(origin, f"{model.name}.{f.name}", f"{f.name!r} is a name the client's generated"
                  " methods use for something else; rename the field")
        for f in model.fields
        if f.name in taken
    ]  # fmt: skip
    for names, what in (([o.dest for o in options], "option"), (filters, "filter")):
        seen: set[str] = set()
        for name in names:
            if name in seen or name in taken:
                errors.append(SpecError(origin, model.name, f"the client {what} {name!r} would"
                                        " be defined twice; rename a field"))  # fmt: skip
            seen.add(name)
    return errors


def client_model(model: Model, view: ModelView, origin: str = "spec") -> ClientModel:
    cls = pascal(model.name)
    plural_cls = pascal(view.plural)
    header, label = _label(model)
    options = [o for f in model.fields for o in _options(f)]
    errors = _clashes(origin, model, options, [f.param for f in view.filters])
    if errors:
        raise SpecInvalid(errors)
    return ClientModel(
        m=view,
        cls=cls,
        resource=plural_cls,
        async_resource=f"Async{plural_cls}",
        calls=f"{view.const}_CALLS",
        attr=view.plural,
        command=view.plural.replace("_", "-"),
        fields=[client_field(f) for f in model.fields],
        computed=[client_field(c, computed=True) for c in model.computed],
        options=options,
        filters=[
            _filter(model, fv.param, path, fv.description)
            for fv, path in zip(view.filters, model.search, strict=True)
        ],
        sorts=[s for name in view.sorts for s in (name, f"-{name}")],
        label_header=header,
        label_path=label,
    )


def _uses(kinds: list[Any], test: Any) -> bool:
    def walk(kind: Any) -> bool:
        if test(kind):
            return True
        if _is_list(kind):
            return walk(kind.item)
        if isinstance(kind, Embedded):
            return any(walk(f.kind) for f in kind.fields)
        return False

    return any(walk(k) for k in kinds)


def client_view(view: SpecView) -> ClientSpec:
    """The client's view of a spec (``view.spec`` must be set, as ``spec_view`` does)."""
    spec = view.spec
    if spec is None:
        raise ValueError(f"{view.origin}: the view carries no spec")
    by_name = {m.name: m for m in spec.models}
    embedded = [
        ClientEmbedded(e.cls, e.description, [client_field(f) for f in _embedded(spec, e.cls)])
        for e in view.embedded
    ]
    kinds: list[Any] = [f.kind for m in spec.models for f in m.fields]
    kinds += [c.kind for m in spec.models for c in m.computed]
    return ClientSpec(
        domain=view.domain,
        origin=view.origin,
        description=view.description,
        embedded=embedded,
        models=[client_model(by_name[m.name], m, view.origin) for m in view.models],
        uses_date=_uses(kinds, lambda k: isinstance(k, Date)),
        uses_literal=_uses(kinds, lambda k: isinstance(k, Text) and bool(k.choices)),
    )


def _embedded(spec: Any, name: str) -> list[Field]:
    found: dict[str, Embedded] = {}

    def visit(kind: Any) -> None:
        if _is_list(kind):
            visit(kind.item)
        elif isinstance(kind, Embedded):
            found.setdefault(kind.name, kind)
            for f in kind.fields:
                visit(f.kind)

    for model in spec.models:
        for f in model.fields:
            visit(f.kind)
    return list(found[name].fields)
