"""The spec as the client templates see it: typed SDK classes and CLI options per model.

The client is its own distribution and knows nothing of the server's schemas, so its
classes are plain dataclasses: this module works out, for each field, its annotation,
how a read's JSON becomes it, the arguments that set it and the command-line options
that do the same (scalars as options, embedded types flattened one level, lists repeated),
asking each field's kind (``codegen/kinds/``) for its part.
"""

from __future__ import annotations

from dataclasses import dataclass

from codegen.check import SpecError, SpecInvalid, resolve_path
from codegen.expressions import pascal
from codegen.kinds import CliOption
from codegen.view import ModelView, SpecView
from mcore.records.kinds import Computed, Field, Model


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


# -- fields, options, filters ----------------------------------------------------------------


def client_field(f: Field | Computed, *, computed: bool = False) -> ClientField:
    kind = f.kind
    required = bool(getattr(f, "required", False)) and not computed
    key = repr(f.name)
    if kind.collection:
        value = kind.decode(f"data.get({key}) or []")
        default: str | None = "field(default_factory=list)"
        ann = kind.client_annotation()
    elif required:
        value = kind.decode(f"data[{key}]")
        default = None
        ann = kind.client_annotation()
    else:
        inner = kind.decode(f"data[{key}]")
        plain = f"data.get({key})"
        value = (
            plain if inner == f"data[{key}]" else f"None if data.get({key}) is None else {inner}"
        )
        default = "None"
        ann = f"{kind.client_annotation()} | None"
    arg = kind.argument()
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


def _options(f: Field) -> list[CliOption]:
    """Options for a field: scalars and lists of scalars directly, embedded types one level
    deep; lists of embedded values only through ``--data``."""
    return list(f.kind.options([f.name], f.description or f.name.replace("_", " ")))


def _filter(model: Model, param: str, path: str, description: str) -> ClientFilter:
    kind = resolve_path(model, path).kind
    return ClientFilter(
        param=param,
        flag="--" + param.replace("_", "-"),
        annotation=f"{kind.filter_annotation} | None",
        click_type=kind.filter_click_type,
        boolean=kind.flag,
        help=description,
    )


def _label(model: Model) -> tuple[str, list[str]]:
    """The column a list shows next to ids: the first sort path, else the first required
    single field; its header and the attribute path that reads it from a record."""
    paths = [p for p in model.sort if not resolve_path(model, p).multi]
    if not paths:
        paths = [f.name for f in model.fields if f.required and f.kind.scalar]
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


def client_view(view: SpecView) -> ClientSpec:
    """The client's view of a spec (``view.spec`` must be set, as ``spec_view`` does)."""
    spec = view.spec
    if spec is None:
        raise ValueError(f"{view.origin}: the view carries no spec")
    by_name = {m.name: m for m in spec.models}
    embedded = [
        ClientEmbedded(e.cls, e.description, [client_field(f) for f in e.kind.fields])
        for e in view.embedded
    ]
    return ClientSpec(
        domain=view.domain,
        origin=view.origin,
        description=view.description,
        embedded=embedded,
        models=[client_model(by_name[m.name], m, view.origin) for m in view.models],
    )
