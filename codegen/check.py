"""Checking a spec: every problem at once, each naming its spec, model and field.

The checker walks the models, fields, search and sort paths and examples; what depends on
a field's kind (its declaration's limits, an example's value, links to other models) is
asked of the kind's class in ``codegen/kinds/``. A checked spec holds those classes in
place of the declared kinds, with shorthands (``int``, ``bool``, ``date``) resolved.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from codegen.kinds import EmbeddedKind, Kind, kind_class
from mcore.records.kinds import Boolean, Date, Embedded, Field, Integer, Model, Spec


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
FLOAT_NAMES = frozenset({"float", "double", "real", "number", "decimal"})
FLOAT_MESSAGE = (
    "non-integer numbers cannot be hashed canonically: use an integer with a unit"
    " (e.g. duration_ms) or decimal text"
)
SHORTHANDS: dict[Any, Any] = {bool: Boolean(), int: Integer(), date: Date()}


# -- paths ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PathInfo:
    """Where a search or sort path leads: its final kind and whether it is multi-valued."""

    kind: Any
    multi: bool
    required: bool


def param_name(path: str) -> str:
    """The query parameter and column name of a field path: ``title.full`` -> ``title_full``."""
    return path.replace(".", "_")


def resolve_path(model: Model, path: str) -> PathInfo:
    """Follow ``path`` through the checked model's fields (into embedded values and lists)."""
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
        if kind.collection:
            multi = True
            kind = kind.item
        inner = kind.path_fields()
        if inner is not None:
            fields = inner
            if i == len(parts) - 1:
                raise ValueError(f"{path!r} is an embedded value; name one of its fields")
        elif i != len(parts) - 1:
            raise ValueError(f"{'.'.join(parts[: i + 1])!r} has no fields")
    if not kind.scalar:
        raise ValueError(f"{path!r} cannot be searched or sorted")
    return PathInfo(kind=kind, multi=multi, required=required)


# -- checking -------------------------------------------------------------------------------


@dataclass
class Checker:
    """The errors found so far in one spec, and the embedded types it declares."""

    origin: str
    domain: str = ""  # the spec's, which a link that names no domain stays in
    errors: list[SpecError] = field(default_factory=list)
    embedded: dict[str, EmbeddedKind] = field(default_factory=dict)
    declared: dict[str, Embedded] = field(default_factory=dict)

    def error(self, where: str, message: str) -> None:
        self.errors.append(SpecError(self.origin, where, message))

    # kinds

    def kind(self, raw: Any, where: str, *, content: bool = True, depth: int = 0) -> Kind | None:
        """The checked kind of ``raw``, or ``None`` after reporting why it has none."""
        if depth > 8:
            self.error(where, "embedded values nest too deeply (or refer to themselves)")
            return None
        if (
            raw is float
            or raw is Decimal
            or raw is complex
            or (isinstance(raw, str) and raw.lower() in FLOAT_NAMES)
        ):
            self.error(where, FLOAT_MESSAGE)
            return None
        if raw is datetime or raw is time:
            self.error(where, "times are not content: use Date, or an Integer of microseconds")
            return None
        if raw is str:
            self.error(where, "text needs a limit: use Text(max_length=...)")
            return None
        declared = SHORTHANDS.get(raw, raw) if isinstance(raw, type) else raw
        cls = kind_class(declared)
        if cls is None:
            self.error(where, f"{raw!r} is not a kind: use Text, Integer, Boolean, Date,"
                              " FileLink, Link, ListOf, SetOf or an Embedded")  # fmt: skip
            return None
        return cls.checked(declared, where, self, content=content, depth=depth)

    def fields(self, raw: Sequence[Field], owner: str, *, depth: int = 0) -> list[Field]:
        out: list[Field] = []
        seen: set[str] = set()
        if not raw:
            self.error(owner, "declares no fields")
        for item in raw:
            if not isinstance(item, Field):
                self.error(owner, f"{item!r} is not a Field")
                continue
            where = f"{owner}.{item.name}"
            if not isinstance(item.name, str) or not SNAKE.match(item.name):
                self.error(where, "field names are snake_case")
                continue
            if item.name in seen:
                self.error(where, "declared twice")
                continue
            seen.add(item.name)
            if (
                item.name in RESERVED
                or keyword.iskeyword(item.name)
                or item.name.startswith("model_")
            ):
                self.error(where, f"{item.name!r} is reserved; choose another name")
                continue
            kind = self.kind(item.kind, where, depth=depth)
            if kind is not None:
                out.append(replace(item, kind=kind))
        return out

    # models

    def model(self, raw: Model) -> Model | None:
        where = str(getattr(raw, "name", raw))
        if not isinstance(raw, Model):
            self.error("spec", f"{raw!r} is not a Model")
            return None
        if not SNAKE.match(raw.name or ""):
            self.error(where, "model names are snake_case")
            return None
        plural = raw.plural or f"{raw.name}s"
        if not SNAKE.match(plural):
            self.error(where, f"plural {plural!r} is not snake_case")
        fields = self.fields(raw.fields, raw.name)
        names = {f.name for f in fields}
        computed = []
        for item in raw.computed:
            cwhere = f"{raw.name}.{item.name}"
            if not SNAKE.match(item.name) or item.name in RESERVED or item.name in names:
                self.error(cwhere, "computed fields need a snake_case name no other field has")
                continue
            kind = self.kind(item.kind, cwhere, content=False)
            if kind is not None and not kind.plain:
                self.error(cwhere, "computed fields are text, integers, booleans or dates")
                continue
            if kind is not None:
                computed.append(replace(item, kind=kind))
        return replace(
            raw,
            plural=plural,
            fields=tuple(fields),
            computed=tuple(computed),
            search=tuple(raw.search),
            sort=tuple(raw.sort),
            examples=tuple(raw.examples),
        )

    def paths(self, model: Model) -> None:
        params: dict[str, str] = {}
        for path in model.search:
            where = f"{model.name}.search[{path!r}]"
            info = self.path(model, path, where)
            if info is None:
                continue
            if info.multi:
                info.kind.check_list_search(where, self)
            params[param_name(path)] = path
        for path in model.sort:
            where = f"{model.name}.sort[{path!r}]"
            info = self.path(model, path, where)
            if info is None:
                continue
            if info.multi or not info.kind.plain:
                self.error(where, "only single text, integer, boolean or date fields sort")
        generic = {"created_at", "updated_at"}
        for path in model.sort:
            if param_name(path) in generic:
                self.error(f"{model.name}.sort[{path!r}]", "clashes with a built-in sort")
        for name, path in params.items():
            if name in RESERVED:
                self.error(f"{model.name}.search[{path!r}]", f"parameter {name!r} is reserved")
        if len(set(map(param_name, model.search))) != len(model.search):
            self.error(f"{model.name}.search", "two paths give the same parameter name")

    def path(self, model: Model, path: str, where: str) -> PathInfo | None:
        try:
            return resolve_path(model, path)
        except ValueError as exc:
            self.error(where, str(exc))
            return None

    def links(self, model: Model, models: Mapping[str, Model]) -> None:
        for f in model.fields:
            f.kind.check_links(f"{model.name}.{f.name}", models, self)

    # examples

    def examples(self, model: Model) -> None:
        for i, example in enumerate(model.examples):
            where = f"{model.name}.examples[{i}]"
            if not isinstance(example, Mapping):
                self.error(where, "an example is a mapping of field names to values")
                continue
            self.values(model.fields, example, where, model_level=True)

    def values(
        self, fields: Sequence[Field], value: Mapping[str, Any], where: str, *, model_level: bool
    ) -> None:
        by_name = {f.name: f for f in fields}
        extra = set(value) - set(by_name) - ({"visibility"} if model_level else set())
        for name in sorted(extra):
            self.error(f"{where}.{name}", "is not a field")
        for f in fields:
            item = value.get(f.name)
            if item is None:
                if f.required:
                    self.error(f"{where}.{f.name}", "is required")
                continue
            self.value(f.kind, item, f"{where}.{f.name}")

    def value(self, kind: Kind, value: Any, where: str) -> None:
        if isinstance(value, float | Decimal):
            self.error(where, FLOAT_MESSAGE)
        else:
            kind.check_value(value, where, self)


def check_spec(spec: Any, origin: str) -> tuple[Spec | None, list[SpecError]]:
    """Every problem in ``spec`` (``origin`` names it in messages), and when there are none
    the spec with its kinds checked, shorthands resolved and sequences frozen."""
    checker = Checker(origin)
    if not isinstance(spec, Spec):
        checker.error("spec", "the module's SPEC is not a mcore.records.kinds.Spec")
        return None, checker.errors
    checker.domain = spec.domain if isinstance(spec.domain, str) else ""
    if not isinstance(spec.domain, str) or not SNAKE.match(spec.domain):
        checker.error("spec", f"domain {spec.domain!r} is not a snake_case package name")
    models: dict[str, Model] = {}
    for raw in spec.models:
        model = checker.model(raw)
        if model is None:
            continue
        if model.name in models:
            checker.error(model.name, "declared twice")
            continue
        models[model.name] = model
    if not models:
        checker.error("spec", "declares no models")
    plurals = [m.plural for m in models.values()]
    for plural in {p for p in plurals if plurals.count(p) > 1}:
        checker.error("spec", f"two models have the plural {plural!r}")
    for model in models.values():
        checker.links(model, models)
        checker.paths(model)
        checker.examples(model)
    if checker.errors:
        return None, checker.errors
    return replace(spec, models=tuple(models.values())), []


def check_foreign_links(specs: Sequence[tuple[Spec, str]]) -> list[SpecError]:
    """The links of checked specs (each with its origin) to other domains' models that
    none of ``specs`` declares: a link across domains is to a spec the generator renders in
    the same run, so its target is known when the code is written."""
    declared = {spec.domain: {m.name for m in spec.models} for spec, _ in specs}
    errors: list[SpecError] = []
    for spec, origin in specs:
        for model in spec.models:
            for f in model.fields:
                for below, link in f.kind.record_links():
                    if link.domain is None:
                        continue
                    where = f"{model.name}.{f.name}{below}"
                    models = declared.get(link.domain)
                    if models is None:
                        known = ", ".join(sorted(declared))
                        message = (
                            f"links to {link.model!r}, but no spec given declares the domain"
                            f" {link.domain!r} (the specs given declare {known})"
                        )
                    elif link.target not in models:
                        message = f"links to {link.model!r}, which is not a model of {link.domain}"
                    else:
                        continue
                    errors.append(SpecError(origin, where, message))
    return errors
